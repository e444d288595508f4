// A plugin whose constructor throws: the host must report it by file name and go on.
#include <stdexcept>

#include "kiln/plugin.hpp"

namespace {
class ThrowsOnLoad final : public kiln::Plugin {
 public:
  ThrowsOnLoad() { throw std::runtime_error("cannot initialise: missing licence file"); }
  std::string_view name() const override { return "throws_on_load"; }
  std::string_view version() const override { return "0"; }
  std::vector<std::string> steps() const override { return {}; }
  kiln::StepResult run(std::string_view, const nlohmann::json&, kiln::StepContext&) override { return {}; }
};
}  // namespace

KILN_PLUGIN(ThrowsOnLoad)
