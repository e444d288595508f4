// A keyed entry as an OCI artifact: one image manifest per entry, in an OCI image layout
// directory that skopeo copies to and from a registry.
//
//   config   application/vnd.kiln.cache.config.v1+json   {"key", "scope"}
//   layer 0  application/vnd.kiln.cache.manifest.v1       the entry's manifest (manifest.hpp)
//   layer 1  application/vnd.kiln.cache.pack.v1           the entry's pack (tree_copy.hpp)
//   annotations: dev.kiln.cache.key, dev.kiln.cache.scope, dev.kiln.cache.bytes,
//                dev.kiln.cache.files, org.opencontainers.image.created
//
// Reading one back trusts nothing in it: every blob is checked against the digest and size
// its descriptor gives, the OCI manifest against the index's, the annotations must name the
// key and scope asked for, and the entry's own manifest is checked again (its digest line,
// its pack's size) when the store adopts it (KeyedStore::Adopt).
#pragma once

#include <filesystem>
#include <string>

namespace kiln::cache {

inline constexpr const char* kEntryConfigMediaType = "application/vnd.kiln.cache.config.v1+json";
inline constexpr const char* kEntryManifestMediaType = "application/vnd.kiln.cache.manifest.v1";
inline constexpr const char* kEntryPackMediaType = "application/vnd.kiln.cache.pack.v1";

/// The registry tag of `key`: "k-" and the SHA-256 of the key (keys hold characters tags
/// may not, and may be longer); the key itself is in the annotations.
std::string EntryTag(const std::string& key);

/// Writes the entry in `entry_dir` (its manifest and pack; the pack hard-linked when it
/// can be) as an OCI layout in the new directory `layout`, tagged EntryTag(key). "" or what failed.
std::string WriteEntryLayout(const std::filesystem::path& entry_dir, const std::string& scope, const std::string& key,
                             const std::filesystem::path& layout);

/// Checks the OCI layout `layout` (as skopeo wrote it) holds the entry `key` of `scope`,
/// whole and unaltered, and moves its manifest and pack into `into` (an existing empty
/// directory on the same file system). "" or why it is rejected.
std::string ReadEntryLayout(const std::filesystem::path& layout, const std::string& scope, const std::string& key,
                            const std::filesystem::path& into);

}  // namespace kiln::cache
