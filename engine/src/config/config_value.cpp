#include "config/config_value.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace kiln::config_value {

namespace {

constexpr std::string_view kSizeForms = "a size like 64MiB, 512KiB or a number of bytes";
constexpr std::size_t kMaxShown = 60;  // longer values are cut in messages

std::string Shown(std::string_view text) {
  if (text.size() <= kMaxShown) return std::string(text);
  return std::string(text.substr(0, kMaxShown)) + "...";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

// Decimal integers only, with an optional sign ("+5" is YAML 1.2 core too).
bool ParseInt64(std::string_view text, std::int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool ParseUint64(std::string_view text, std::uint64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || !IsDigit(text.front())) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool ParseDouble(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool LooksLikeInteger(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), IsDigit);
}

// YAML 1.2 core: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
// (.inf and .nan are left out on purpose: JSON cannot hold them, so they stay strings.)
bool LooksLikeFloat(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  std::size_t int_digits = 0;
  while (i < text.size() && IsDigit(text[i])) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < text.size() && IsDigit(text[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == text.size();
}

Error TypeError(std::string_view expected, const Input& input, bool show_value = true) {
  return MakeError("expected " + std::string(expected) + ", got " + Describe(input, show_value));
}

// Items of a comma-separated environment value.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = Trim(text.substr(start, comma - start));
    if (!item.empty()) items.emplace_back(item);
    start = comma + 1;
  }
  return items;
}

nlohmann::json PlainTextAsJson(std::string_view text) {
  switch (ClassifyPlainText(text)) {
    case ScalarKind::null:
      return nullptr;
    case ScalarKind::boolean:
      return Lower(text) == "true";
    case ScalarKind::integer: {
      std::int64_t signed_value = 0;
      if (ParseInt64(text, signed_value)) return signed_value;
      std::uint64_t unsigned_value = 0;
      if (ParseUint64(text, unsigned_value)) return unsigned_value;
      return std::string(text);  // beyond 64 bits: the plugin gets the text
    }
    case ScalarKind::floating: {
      double value = 0;
      if (ParseDouble(text, value)) return value;
      return std::string(text);
    }
    case ScalarKind::string:
      break;
  }
  return std::string(text);
}

std::string Location(const std::string& file, const YAML::Node& node) {
  return "(" + file + " line " + std::to_string(node.Mark().line + 1) + ")";
}

}  // namespace

ScalarKind ClassifyPlainText(std::string_view text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return ScalarKind::null;
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE") {
    return ScalarKind::boolean;
  }
  if (LooksLikeInteger(text)) return ScalarKind::integer;
  if (LooksLikeFloat(text)) return ScalarKind::floating;
  return ScalarKind::string;
}

ScalarKind ClassifyScalar(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return ScalarKind::null;
  // yaml-cpp tags a quoted scalar "!" and a plain one "?"; an explicit !!str is a string too.
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return ScalarKind::string;
  return ClassifyPlainText(node.Scalar());
}

std::string Describe(const Input& input, bool show_value) {
  if (input.from_env()) return show_value ? "'" + Shown(input.env_text) + "'" : "a value that is not valid";
  const YAML::Node& node = *input.node;
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  switch (ClassifyScalar(node)) {
    case ScalarKind::null:
      return "null";
    case ScalarKind::boolean:
      return show_value ? node.Scalar() : "a boolean";
    case ScalarKind::integer:
    case ScalarKind::floating:
      return show_value ? "the number " + node.Scalar() : "a number";
    case ScalarKind::string:
      break;
  }
  return show_value ? "the string '" + Shown(node.Scalar()) + "'" : "a string";
}

Result<std::string> ReadString(const Input& input) {
  if (input.from_env()) return input.env_text;
  const YAML::Node& node = *input.node;
  if (node.IsNull()) return std::string();
  // Any scalar reads as its text: `id: 42` is the id "42".
  if (node.IsScalar()) return node.Scalar();
  return TypeError("a string", input);
}

Result<std::int64_t> ReadInteger(const Input& input, std::int64_t min, std::int64_t max) {
  std::string text;
  if (input.from_env()) {
    text = std::string(Trim(input.env_text));
    if (!LooksLikeInteger(text)) return TypeError("an integer", input);
  } else {
    if (!input.node->IsScalar() || ClassifyScalar(*input.node) != ScalarKind::integer) {
      return TypeError("an integer", input);
    }
    text = input.node->Scalar();
  }
  std::int64_t value = 0;
  const bool fits = ParseInt64(text, value);
  if (!fits || value < min || value > max) {
    return MakeError("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                     Shown(text));
  }
  return value;
}

Result<std::uint64_t> ReadCount(const Input& input, std::uint64_t min) {
  std::string text;
  if (input.from_env()) {
    text = std::string(Trim(input.env_text));
  } else {
    if (!input.node->IsScalar() || ClassifyScalar(*input.node) != ScalarKind::integer) {
      return TypeError("a whole number", input);
    }
    text = input.node->Scalar();
  }
  std::uint64_t value = 0;
  if (!ParseUint64(text, value)) {
    if (LooksLikeInteger(text) && text.front() != '-') {
      return MakeError("must be at most " + std::to_string(std::numeric_limits<std::uint64_t>::max()) +
                       ", got " + Shown(text));
    }
    if (LooksLikeInteger(text)) {
      return MakeError("must be at least " + std::to_string(min) + ", got " + Shown(text));
    }
    return TypeError("a whole number", input);
  }
  if (value < min) return MakeError("must be at least " + std::to_string(min) + ", got " + Shown(text));
  return value;
}

Result<bool> ReadBool(const Input& input) {
  if (input.from_env()) {
    auto parsed = ParseEnvBool(Trim(input.env_text));
    if (!parsed) return TypeError("a boolean (true/false/1/0/yes/no)", input);
    return parsed.value();
  }
  if (!input.node->IsScalar() || ClassifyScalar(*input.node) != ScalarKind::boolean) {
    return TypeError("a boolean (true or false)", input);
  }
  return Lower(input.node->Scalar()) == "true";
}

Result<Duration> ReadDuration(const Input& input) {
  if (input.from_env()) return ParseDuration(Trim(input.env_text));
  const YAML::Node& node = *input.node;
  const ScalarKind kind = node.IsScalar() ? ClassifyScalar(node) : ScalarKind::null;
  // 90, "90", 2s and "2s" all read; 1.5 reaches ParseDuration and is refused there by name.
  if (!node.IsScalar() || kind == ScalarKind::null || kind == ScalarKind::boolean) {
    return TypeError("a duration like 90 (seconds), 250ms, 2s, 5m or 1h", input);
  }
  return ParseDuration(node.Scalar());
}

Result<std::uint64_t> ReadSize(const Input& input) {
  if (input.from_env()) return ParseSize(Trim(input.env_text));
  const YAML::Node& node = *input.node;
  const ScalarKind kind = node.IsScalar() ? ClassifyScalar(node) : ScalarKind::null;
  if (!node.IsScalar() || kind == ScalarKind::null || kind == ScalarKind::boolean) {
    return TypeError(kSizeForms, input);
  }
  return ParseSize(node.Scalar());
}

Result<std::vector<std::string>> ReadStringList(const Input& input) {
  if (input.from_env()) return SplitList(input.env_text);
  const YAML::Node& node = *input.node;
  if (node.IsNull()) return std::vector<std::string>();
  if (!node.IsSequence()) return TypeError("a list of strings", input);
  std::vector<std::string> items;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    if (!item.IsScalar()) {
      return MakeError("expected a list of strings, item " + std::to_string(i + 1) + " is " +
                       Describe(Input::FromNode(item)));
    }
    items.push_back(item.Scalar());
  }
  return items;
}

Result<std::uint64_t> ParseSize(std::string_view text) {
  auto invalid = [&] { return MakeError("expected " + std::string(kSizeForms) + ", got '" + Shown(text) + "'"); };
  std::size_t digits = 0;
  while (digits < text.size() && IsDigit(text[digits])) ++digits;
  if (digits == 0) return invalid();
  const std::string_view suffix = text.substr(digits);
  std::uint64_t factor = 0;
  if (suffix.empty() || suffix == "B") factor = 1;
  else if (suffix == "KiB") factor = 1ull << 10;
  else if (suffix == "MiB") factor = 1ull << 20;
  else if (suffix == "GiB") factor = 1ull << 30;
  else if (suffix == "TiB") factor = 1ull << 40;
  if (factor == 0) return invalid();
  std::uint64_t count = 0;
  if (!ParseUint64(text.substr(0, digits), count) || count > std::numeric_limits<std::uint64_t>::max() / factor) {
    return MakeError("size '" + Shown(text) + "' is too large");
  }
  return count * factor;
}

std::string FormatSize(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, std::string_view> kUnits[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  if (bytes != 0) {
    for (const auto& [factor, suffix] : kUnits) {
      if (bytes % factor == 0) return std::to_string(bytes / factor) + std::string(suffix);
    }
  }
  return std::to_string(bytes) + " bytes";
}

Result<bool> ParseEnvBool(std::string_view text) {
  const std::string lower = Lower(text);
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return MakeError("expected a boolean (true/false/1/0/yes/no), got '" + Shown(text) + "'");
}

namespace {

// A plugin section is a handful of keys. The bounds are far above that and stop a file
// whose aliases expand exponentially (each use of an alias converts its whole value again:
// nine levels of ten aliases are 10^9 values from ten lines) or whose nesting is absurd.
constexpr std::size_t kMaxConvertedValues = 10'000;
constexpr int kMaxConvertedDepth = 64;

Result<nlohmann::json> ConvertYaml(const YAML::Node& node, const std::string& path, const std::string& file,
                                   int depth, std::size_t& values_left) {
  if (values_left == 0) {
    return MakeError(path + ": more than " + std::to_string(kMaxConvertedValues) +
                     " values (YAML aliases count again at each use) " + Location(file, node));
  }
  --values_left;
  if (depth > kMaxConvertedDepth) {
    return MakeError(path + ": nested deeper than " + std::to_string(kMaxConvertedDepth) + " levels " +
                     Location(file, node));
  }
  if (!node.IsDefined() || node.IsNull()) return nlohmann::json(nullptr);
  if (node.IsScalar()) {
    if (ClassifyScalar(node) == ScalarKind::string) return nlohmann::json(node.Scalar());
    return PlainTextAsJson(node.Scalar());
  }
  if (node.IsSequence()) {
    nlohmann::json array = nlohmann::json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      auto item = ConvertYaml(node[i], path + "[" + std::to_string(i) + "]", file, depth + 1, values_left);
      if (!item) return item;
      array.push_back(std::move(item).value());
    }
    return array;
  }
  nlohmann::json object = nlohmann::json::object();
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: `it->` yields a proxy that dies with the statement
    if (!key.IsScalar()) return MakeError(path + ": a key must be a plain name " + Location(file, key));
    const std::string child = path + "." + key.Scalar();
    if (object.contains(key.Scalar())) return MakeError(child + ": duplicate key " + Location(file, key));
    auto value = ConvertYaml(it->second, child, file, depth + 1, values_left);
    if (!value) return value;
    object[key.Scalar()] = std::move(value).value();
  }
  return object;
}

}  // namespace

Result<nlohmann::json> YamlToJson(const YAML::Node& node, const std::string& path, const std::string& file) {
  std::size_t values_left = kMaxConvertedValues;
  return ConvertYaml(node, path, file, 0, values_left);
}

Result<nlohmann::json> EnvTextAsJson(std::string_view text, const nlohmann::json& current) {
  using Type = nlohmann::json::value_t;
  switch (current.type()) {
    case Type::boolean: {
      auto parsed = ParseEnvBool(Trim(text));
      if (!parsed) return MakeError(parsed.error());
      return nlohmann::json(parsed.value());
    }
    case Type::number_integer:
    case Type::number_unsigned: {
      const std::string_view trimmed = Trim(text);
      std::int64_t signed_value = 0;
      if (ParseInt64(trimmed, signed_value)) return nlohmann::json(signed_value);
      std::uint64_t unsigned_value = 0;
      if (ParseUint64(trimmed, unsigned_value)) return nlohmann::json(unsigned_value);
      return MakeError("expected an integer, got '" + Shown(text) + "'");
    }
    case Type::number_float: {
      double value = 0;
      const std::string_view trimmed = Trim(text);
      if ((LooksLikeFloat(trimmed) || LooksLikeInteger(trimmed)) && ParseDouble(trimmed, value)) {
        return nlohmann::json(value);
      }
      return MakeError("expected a number, got '" + Shown(text) + "'");
    }
    case Type::string:
      return nlohmann::json(std::string(text));
    case Type::array: {
      for (const auto& item : current) {
        if (item.is_object() || item.is_array()) {
          return MakeError("a list of maps or lists cannot be set from the environment");
        }
      }
      // Items are typed like the file's first item, so ports stay numbers and names strings.
      const nlohmann::json model = current.empty() ? nlohmann::json(nullptr) : current.front();
      nlohmann::json array = nlohmann::json::array();
      for (const std::string& item : SplitList(text)) {
        auto value = EnvTextAsJson(item, model);
        if (!value) return MakeError("item '" + Shown(item) + "': " + value.error());
        array.push_back(std::move(value).value());
      }
      return array;
    }
    case Type::object:
      return MakeError("a map cannot be set from the environment; set its keys one by one");
    default:
      break;
  }
  return PlainTextAsJson(Trim(text));
}

}  // namespace kiln::config_value
