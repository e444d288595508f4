#include "image_store_index.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace kiln::buildah {
namespace fs = std::filesystem;

namespace {

bool IsHexId(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A name with neither a tag nor a digest means ":latest", as buildah reads it.
bool HasTagOrDigest(const std::string& name) {
  const auto slash = name.rfind('/');
  const auto last = slash == std::string::npos ? 0 : slash + 1;
  return name.find(':', last) != std::string::npos || name.find('@') != std::string::npos;
}

// Only a name with a registry part ("localhost/app:1", "quay.io/x/y") is looked up: the
// store records names that way, and a short one ("busybox") is buildah's to resolve.
bool IsFullyQualified(const std::string& name) {
  const auto slash = name.find('/');
  if (slash == std::string::npos) return false;
  const std::string first = name.substr(0, slash);
  return first == "localhost" || first.find_first_of(".:") != std::string::npos;
}

fs::path RecordsDir(const BuildahConfig& config) { return fs::path(config.root) / "kiln-build-keys"; }

}  // namespace

ImageStoreIndex ImageStoreIndex::Load(const BuildahConfig& config) {
  ImageStoreIndex index;
  std::ifstream in(fs::path(config.root) / (config.storage_driver + "-images") / "images.json", std::ios::binary);
  if (!in) return index;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json images = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!images.is_array()) return index;
  for (const auto& image : images) {
    if (!image.is_object()) return ImageStoreIndex{};  // not the format this reader knows
    const auto id = image.find("id");
    if (id == image.end() || !id->is_string() || !IsHexId(id->get<std::string>())) return ImageStoreIndex{};
    const auto digest = image.find("digest");
    index.digests_[*id] = digest != image.end() && digest->is_string() ? digest->get<std::string>() : "";
    const auto names = image.find("names");
    if (names == image.end() || !names->is_array()) continue;
    for (const auto& name : *names) {
      if (name.is_string()) index.ids_[name.get<std::string>()] = id->get<std::string>();
    }
  }
  index.loaded_ = true;
  return index;
}

std::optional<std::string> ImageStoreIndex::IdOf(const std::string& name) const {
  if (!IsFullyQualified(name)) return std::nullopt;
  auto found = ids_.find(name);
  if (found == ids_.end() && !HasTagOrDigest(name)) found = ids_.find(name + ":latest");
  if (found == ids_.end()) return std::nullopt;
  return found->second;
}

std::optional<std::string> ImageStoreIndex::DigestOf(const std::string& id) const {
  const auto found = digests_.find(id);
  if (found == digests_.end() || found->second.rfind("sha256:", 0) != 0) return std::nullopt;
  return found->second;
}

std::optional<std::string> RecordedBuild(const BuildahConfig& config, const std::string& key) {
  std::ifstream in(RecordsDir(config) / key);
  std::string id;
  if (!std::getline(in, id) || !IsHexId(id)) return std::nullopt;
  return id;
}

std::string RecordBuild(const BuildahConfig& config, const std::string& key, const std::string& image_id) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = RecordsDir(config);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  // Written aside and renamed: a reader sees a whole record or none.
  const fs::path temp = dir / (".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                               std::to_string(std::random_device{}()));
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << image_id << "\n";
    if (!out.flush()) {
      fs::remove(temp, ec);
      return "cannot write " + temp.string();
    }
  }
  fs::rename(temp, dir / key, ec);
  if (ec) {
    fs::remove(temp, ec);
    return "cannot write " + (dir / key).string() + ": " + ec.message();
  }
  return {};
}

}  // namespace kiln::buildah
