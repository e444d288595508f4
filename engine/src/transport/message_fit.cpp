#include "transport/message_fit.hpp"

#include "secrets/redactor.hpp"

namespace kiln {

namespace {

std::string Dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void DropOutputs(nlohmann::json& doc, std::size_t limit) {
  if (doc.is_array()) {
    for (auto& item : doc) DropOutputs(item, limit);
    return;
  }
  if (!doc.is_object()) return;
  for (auto& [key, value] : doc.items()) {
    if (key == "outputs" && !value.empty()) {
      doc["outputs_dropped"] = std::to_string(Dump(value).size()) +
                               " bytes of outputs dropped to fit one NATS message (" + std::to_string(limit) +
                               " bytes: the server's max_payload less room for headers)";
      value = nlohmann::json::object();
      return DropOutputs(doc, limit);  // the items changed; "outputs" is empty now
    }
    DropOutputs(value, limit);
  }
}

void CutStrings(nlohmann::json& doc) {
  if (doc.is_string()) {
    const auto& text = doc.get_ref<const std::string&>();
    if (text.size() > kKeptStringBytes) {
      doc = text.substr(0, kKeptStringBytes) + "... (" + std::to_string(text.size()) +
            " bytes, cut to fit a NATS message)";
    }
  } else if (doc.is_structured()) {
    for (auto& item : doc) CutStrings(item);
  }
}

}  // namespace

std::string MessageText(const nlohmann::json& doc) {
  std::string text = Dump(doc);
  if (text.find("://") == std::string::npos) return text;  // the common case: no URL, no copy
  return Redactor::redact_url_credentials(text);
}

std::string FitInMessage(nlohmann::json& doc, std::size_t limit) {
  std::string text = MessageText(doc);
  if (text.size() <= limit) return text;
  DropOutputs(doc, limit);
  text = MessageText(doc);
  if (text.size() <= limit) return text;
  CutStrings(doc);
  text = MessageText(doc);
  if (text.size() <= limit) return text;
  return {};
}

}  // namespace kiln
