#include "manifest.hpp"

#include <charconv>

#include "safe_paths.hpp"
#include "kiln/sha256.hpp"

namespace kiln::cache {
namespace {

constexpr std::string_view kMagic = "kiln-cache-manifest";

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (start <= line.size()) {
    const std::size_t space = line.find(' ', start);
    if (space == std::string_view::npos) {
      fields.push_back(line.substr(start));
      break;
    }
    fields.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return fields;
}

template <typename T>
bool Number(std::string_view text, T* value, int base = 10) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

bool Parse(std::string_view text, Manifest* m, std::string* error, bool header_only) {
  *m = Manifest{};
  // The digest line closes the manifest; check it before believing anything else.
  if (text.empty() || text.back() != '\n') {
    *error = "manifest is cut short";
    return false;
  }
  const std::size_t last = text.rfind('\n', text.size() - 2);
  const std::size_t body_end = last == std::string_view::npos ? 0 : last + 1;
  const std::string_view end_line = text.substr(body_end, text.size() - body_end - 1);
  if (end_line.substr(0, 4) != "end " || end_line.substr(4) != Sha256Hex(text.substr(0, body_end))) {
    *error = "manifest digest does not match (cut short or altered)";
    return false;
  }
  const std::string_view body = text.substr(0, body_end);
  std::size_t pos = 0;
  std::size_t line_number = 0;
  std::uint64_t files = 0, bytes = 0;
  auto fail = [&](const char* why) {
    *error = "manifest line " + std::to_string(line_number) + ": " + why;
    return false;
  };
  while (pos < body.size()) {
    const std::size_t nl = body.find('\n', pos);
    const std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_number;
    const auto f = Fields(line);
    if (line_number == 1) {
      int version = 0;
      if (f.size() != 2 || f[0] != kMagic || !Number(f[1], &version) || version != Manifest::kVersion) {
        return fail("not a kiln cache manifest of version 1");
      }
      continue;
    }
    if (f[0] == "key" && f.size() == 2) {
      if (!Unescape(f[1], &m->key)) return fail("bad key");
    } else if (f[0] == "created" && f.size() == 2) {
      if (!Number(f[1], &m->created_unix)) return fail("bad created");
    } else if (f[0] == "path" && f.size() == 3) {
      std::string path;
      if ((f[1] != "present" && f[1] != "absent") || !Unescape(f[2], &path)) return fail("bad path");
      m->paths.push_back(path);
      m->present.push_back(f[1] == "present");
    } else if (f[0] == "pack" && f.size() == 3) {
      if (!Number(f[1], &m->pack_size) || !Number(f[2], &m->pack_mtime_ns)) return fail("bad pack");
    } else if (f[0] == "totals" && f.size() == 3) {
      if (!Number(f[1], &m->files) || !Number(f[2], &m->bytes)) return fail("bad totals");
      if (header_only) return true;
    } else if (f[0] == "D" && f.size() == 4) {
      ManifestItem item;
      item.type = ManifestItem::Type::directory;
      if (!Number(f[1], &item.mode, 8) || !Number(f[2], &item.mtime_ns) || !Unescape(f[3], &item.path)) {
        return fail("bad directory");
      }
      m->items.push_back(std::move(item));
    } else if (f[0] == "F" && f.size() == 5) {
      ManifestItem item;
      item.type = ManifestItem::Type::file;
      if (!Number(f[1], &item.mode, 8) || !Number(f[2], &item.size) || !Number(f[3], &item.mtime_ns) ||
          !Unescape(f[4], &item.path)) {
        return fail("bad file");
      }
      ++files;
      bytes += item.size;
      m->items.push_back(std::move(item));
    } else if (f[0] == "L" && f.size() == 3) {
      ManifestItem item;
      item.type = ManifestItem::Type::symlink;
      if (!Unescape(f[1], &item.path) || !Unescape(f[2], &item.target)) return fail("bad symlink");
      m->items.push_back(std::move(item));
    } else {
      return fail("unknown line");
    }
  }
  if (line_number == 0) return fail("empty");
  if (header_only) return fail("no totals");
  if (files != m->files || bytes != m->bytes || bytes != m->pack_size) {
    return fail("totals do not match the items");
  }
  // Every item must lie under one of the saved paths' slots: "<i>" or "<i>/...".
  for (const auto& item : m->items) {
    std::size_t index = 0;
    const std::size_t slash = item.path.find('/');
    const std::string_view head = std::string_view(item.path).substr(0, slash);
    if (!Number(head, &index) || index >= m->paths.size() || item.path.find("/../") != std::string::npos ||
        item.path.find("/./") != std::string::npos || item.path.ends_with("/..") ||
        item.path.ends_with("/.") || item.path.find("//") != std::string::npos ||
        item.path.find('\0') != std::string::npos) {
      *error = "manifest item \"" + Escape(item.path) + "\" is outside the entry";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string SerializeManifest(const Manifest& m) {
  std::string out;
  out.reserve(64 + m.items.size() * 64);
  out += kMagic;
  out += " 1\nkey " + Escape(m.key) + "\ncreated " + std::to_string(m.created_unix) + "\n";
  for (std::size_t i = 0; i < m.paths.size(); ++i) {
    out += "path ";
    out += (i < m.present.size() && m.present[i]) ? "present " : "absent ";
    out += Escape(m.paths[i]) + "\n";
  }
  out += "pack " + std::to_string(m.pack_size) + " " + std::to_string(m.pack_mtime_ns) + "\n";
  out += "totals " + std::to_string(m.files) + " " + std::to_string(m.bytes) + "\n";
  char mode[16];
  for (const auto& item : m.items) {
    switch (item.type) {
      case ManifestItem::Type::directory:
        std::snprintf(mode, sizeof mode, "%o", item.mode);
        out += "D ";
        out += mode;
        out += " " + std::to_string(item.mtime_ns) + " " + Escape(item.path) + "\n";
        break;
      case ManifestItem::Type::file:
        std::snprintf(mode, sizeof mode, "%o", item.mode);
        out += "F ";
        out += mode;
        out += " " + std::to_string(item.size) + " " + std::to_string(item.mtime_ns) + " " +
               Escape(item.path) + "\n";
        break;
      case ManifestItem::Type::symlink:
        out += "L " + Escape(item.path) + " " + Escape(item.target) + "\n";
        break;
    }
  }
  out += "end " + Sha256Hex(out) + "\n";
  return out;
}

bool ParseManifest(std::string_view text, Manifest* manifest, std::string* error) {
  return Parse(text, manifest, error, false);
}

bool ParseManifestHeader(std::string_view text, Manifest* manifest, std::string* error) {
  return Parse(text, manifest, error, true);
}

}  // namespace kiln::cache
