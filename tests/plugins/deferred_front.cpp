// The fronts of deferred test plugins (kiln/deferred_plugin.hpp): name, steps and config
// check here; the work in an implementation library loaded on the first step.
// DEFERRED_NAME and DEFERRED_IMPLEMENTATION are set per target (tests/plugins/CMakeLists.txt).
#include "kiln/deferred_plugin.hpp"

namespace {

class DeferredFront final : public kiln::DeferredPlugin {
 public:
  DeferredFront() : DeferredPlugin(DEFERRED_IMPLEMENTATION) {}
  std::string_view name() const override { return DEFERRED_NAME; }
  std::string_view version() const override { return "1.0.0"; }
  std::vector<std::string> steps() const override { return {"hello", "instances"}; }

 protected:
  std::string check_config(const nlohmann::json& section) const override {
    if (section.is_null()) return {};
    if (!section.is_object()) return std::string(DEFERRED_NAME) + ": must be a table";
    for (const auto& [key, value] : section.items()) {
      if (key != "greeting") return std::string(DEFERRED_NAME) + "." + key + ": unknown key";
      if (!value.is_string()) return std::string(DEFERRED_NAME) + ".greeting: must be a string";
    }
    return {};
  }
};

}  // namespace

KILN_PLUGIN(DeferredFront)
