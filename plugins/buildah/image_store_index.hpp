// What the image store holds, read from the file buildah itself reads instead of asked of a
// buildah process: each buildah process costs 50-90 ms (Go start-up, the store's lock), and a
// build needed three besides its `buildah bud` (base ids, the earlier-build lookup, the new
// image's digest), about 4 % of a 4 s build (docs/benchmarks/buildah.md).
//
// containers/storage keeps its image records in <root>/<driver>-images/images.json, rewritten
// whole by rename on every change, so a reader without the store's lock sees a whole file,
// old or new. The format is the library's, not a published one: only the fields `id`,
// `names` and `digest` are read, and every question the file cannot answer (no file, a
// changed format, a name not spelled exactly as stored) goes to buildah as before. A wrong
// answer is not possible that way, only a slower one.
//
// Build records: which image an earlier build with a given build key made (build_key.hpp),
// one file per key in <root>/kiln-build-keys/, written after each build. A record is a
// hint: the image it names is used only when the store still has it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "buildah_config.hpp"

namespace kiln::buildah {

class ImageStoreIndex {
 public:
  /// Reads the store's image list; an index that could not read it answers nothing.
  static ImageStoreIndex Load(const BuildahConfig& config);

  bool loaded() const { return loaded_; }
  /// The id of the image stored under `name` exactly ("name" alone also as "name:latest").
  std::optional<std::string> IdOf(const std::string& name) const;
  /// The manifest digest ("sha256:...") of the image `id`, when the store has it.
  std::optional<std::string> DigestOf(const std::string& id) const;
  bool Has(const std::string& id) const { return digests_.count(id) > 0; }

 private:
  bool loaded_ = false;
  std::map<std::string, std::string> ids_;      // name -> id
  std::map<std::string, std::string> digests_;  // id -> digest ("" when the record has none)
};

/// The image id an earlier build with `key` recorded in this store; nullopt when none.
std::optional<std::string> RecordedBuild(const BuildahConfig& config, const std::string& key);
/// Records that the build with `key` made `image_id`. Returns "" or why not (not fatal:
/// the next identical build then builds again, finding its layers cached).
std::string RecordBuild(const BuildahConfig& config, const std::string& key, const std::string& image_id);

}  // namespace kiln::buildah
