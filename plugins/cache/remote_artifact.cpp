#include "remote_artifact.hpp"

#include "new_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "errno_text.hpp"
#include "kiln/sha256.hpp"
#include "manifest.hpp"

namespace kiln::cache {
namespace fs = std::filesystem;

namespace {

constexpr const char* kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
// The entry's manifest is a text file list: a large tree makes it a few MB, never more.
constexpr std::uintmax_t kMaxSmallBlob = 256ull << 20;

struct Blob {
  std::string digest;  // "sha256:<hex>"
  std::uint64_t size = 0;
};

// SHA-256 of a file's content, read in chunks; "" when it cannot be read.
std::string FileSha256(const fs::path& path, std::uint64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return {};
  Sha256 hash;
  std::string buffer(1 << 20, '\0');
  *size = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return {};
    }
    if (n == 0) break;
    hash.Update(buffer.data(), static_cast<std::size_t>(n));
    *size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return hash.HexDigest();
}

bool ReadSmall(const fs::path& path, std::string* out) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size > kMaxSmallBlob || fs::is_symlink(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return static_cast<bool>(in) || in.eof();
}

std::string AddBlob(const fs::path& layout, const std::string& content, Blob* blob) {
  Sha256 hash;
  hash.Update(content);
  const std::string hex = hash.HexDigest();
  blob->digest = "sha256:" + hex;
  blob->size = content.size();
  const fs::path path = layout / "blobs" / "sha256" / hex;
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  return WriteNewFile(path, content, Flush::no);
}

// The pack as a blob: a hard link (the store and the layout share .tmp's file system), a
// copy where links are refused.
std::string AddFileBlob(const fs::path& layout, const fs::path& file, Blob* blob) {
  const std::string hex = FileSha256(file, &blob->size);
  if (hex.empty()) return "cannot read \"" + file.string() + "\": " + ErrnoText(errno);
  blob->digest = "sha256:" + hex;
  const fs::path path = layout / "blobs" / "sha256" / hex;
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  if (::link(file.c_str(), path.c_str()) == 0) return {};
  fs::copy_file(file, path, ec);
  if (ec) return "cannot copy \"" + file.string() + "\" into the layout: " + ec.message();
  return {};
}

nlohmann::json Descriptor(const char* media_type, const Blob& blob) {
  return {{"mediaType", media_type}, {"digest", blob.digest}, {"size", blob.size}};
}

std::string Rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// "sha256:<64 lower-case hex>" -> the hex; "" for anything else (another algorithm, a path).
std::string DigestHex(const nlohmann::json& digest) {
  if (!digest.is_string()) return {};
  const std::string text = digest.get<std::string>();
  if (text.size() != 71 || text.rfind("sha256:", 0) != 0) return {};
  for (char c : text.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return text.substr(7);
}

// Checks the blob a descriptor names is in the layout with that size and digest; sets `path`.
std::string CheckBlob(const fs::path& layout, const nlohmann::json& descriptor, const std::string& what, fs::path* path) {
  if (!descriptor.is_object()) return what + ": not a descriptor";
  const std::string hex = DigestHex(descriptor.value("digest", nlohmann::json()));
  if (hex.empty()) return what + ": its digest is not sha256:<hex>";
  if (!descriptor.contains("size") || !descriptor["size"].is_number_unsigned()) return what + ": no size";
  *path = layout / "blobs" / "sha256" / hex;
  std::uint64_t size = 0;
  const std::string actual = FileSha256(*path, &size);
  if (actual.empty()) return what + ": its blob is missing";
  if (size != descriptor["size"].get<std::uint64_t>()) return what + ": its blob has another size than its descriptor says";
  if (actual != hex) return what + ": its blob does not match its digest (sha256:" + actual + ")";
  return {};
}

}  // namespace

std::string EntryTag(const std::string& key) {
  Sha256 hash;
  hash.Update(key);
  return "k-" + hash.HexDigest();
}

std::string WriteEntryLayout(const fs::path& entry_dir, const std::string& scope, const std::string& key,
                             const fs::path& layout) {
  std::string manifest_text;
  if (!ReadSmall(entry_dir / "manifest", &manifest_text)) return "cannot read the entry's manifest";
  Manifest manifest;
  std::string error;
  if (!ParseManifestHeader(manifest_text, &manifest, &error)) return "the entry's manifest is broken: " + error;
  std::error_code ec;
  fs::create_directories(layout / "blobs" / "sha256", ec);
  if (ec) return "cannot create \"" + layout.string() + "\": " + ec.message();
  if (auto e = WriteNewFile(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})", Flush::no); !e.empty()) return e;

  Blob config, manifest_blob, pack;
  const nlohmann::json config_json = {{"key", key}, {"scope", scope}};
  if (auto e = AddBlob(layout, config_json.dump(), &config); !e.empty()) return e;
  if (auto e = AddBlob(layout, manifest_text, &manifest_blob); !e.empty()) return e;
  if (auto e = AddFileBlob(layout, entry_dir / "pack", &pack); !e.empty()) return e;

  const nlohmann::json oci_manifest = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"config", Descriptor(kEntryConfigMediaType, config)},
      {"layers", {Descriptor(kEntryManifestMediaType, manifest_blob), Descriptor(kEntryPackMediaType, pack)}},
      {"annotations",
       {{"dev.kiln.cache.key", key},
        {"dev.kiln.cache.scope", scope},
        {"dev.kiln.cache.bytes", std::to_string(manifest.bytes)},
        {"dev.kiln.cache.files", std::to_string(manifest.files)},
        {"org.opencontainers.image.created", Rfc3339(manifest.created_unix)}}}};
  Blob top;
  if (auto e = AddBlob(layout, oci_manifest.dump(), &top); !e.empty()) return e;
  nlohmann::json top_descriptor = Descriptor(kOciManifestMediaType, top);
  top_descriptor["annotations"] = {{"org.opencontainers.image.ref.name", EntryTag(key)}};
  const nlohmann::json index = {{"schemaVersion", 2}, {"manifests", {top_descriptor}}};
  return WriteNewFile(layout / "index.json", index.dump(), Flush::no);
}

std::string ReadEntryLayout(const fs::path& layout, const std::string& scope, const std::string& key,
                            const fs::path& into) {
  try {
    std::string text;
    if (!ReadSmall(layout / "index.json", &text)) return "no readable index.json";
    const nlohmann::json index = nlohmann::json::parse(text);
    if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].size() != 1) {
      return "the layout does not hold exactly one manifest";
    }
    fs::path path;
    if (auto e = CheckBlob(layout, index["manifests"][0], "the OCI manifest", &path); !e.empty()) return e;
    if (!ReadSmall(path, &text)) return "the OCI manifest is unreadable";
    const nlohmann::json manifest = nlohmann::json::parse(text);
    if (manifest.value("mediaType", "") != kOciManifestMediaType) return "not an OCI image manifest";
    const nlohmann::json annotations = manifest.value("annotations", nlohmann::json::object());
    if (!annotations.is_object() || annotations.value("dev.kiln.cache.key", "") != key) {
      return "its annotations name another key";
    }
    if (annotations.value("dev.kiln.cache.scope", "") != scope) return "its annotations name another scope";
    const nlohmann::json layers = manifest.value("layers", nlohmann::json::array());
    if (!layers.is_array() || layers.size() != 2 || !layers[0].is_object() || !layers[1].is_object() ||
        layers[0].value("mediaType", "") != kEntryManifestMediaType ||
        layers[1].value("mediaType", "") != kEntryPackMediaType) {
      return "its layers are not a kiln cache entry's (manifest, pack)";
    }
    fs::path entry_manifest, pack;
    if (auto e = CheckBlob(layout, layers[0], "the entry's manifest", &entry_manifest); !e.empty()) return e;
    if (auto e = CheckBlob(layout, layers[1], "the entry's pack", &pack); !e.empty()) return e;
    if (::rename(entry_manifest.c_str(), (into / "manifest").c_str()) != 0 ||
        ::rename(pack.c_str(), (into / "pack").c_str()) != 0) {
      return "cannot move the fetched blobs into \"" + into.string() + "\": " + ErrnoText(errno);
    }
    return {};
  } catch (const nlohmann::json::exception& e) {
    return std::string("not valid JSON: ") + e.what();
  }
}

}  // namespace kiln::cache
