#include "build_step.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <system_error>

#include "build_arg_passing.hpp"
#include "build_key.hpp"
#include "buildah_cli.hpp"
#include "commit_time.hpp"
#include "dockerfile.hpp"
#include "image_naming.hpp"
#include "image_store_index.hpp"
#include "kiln/dependency_caches.hpp"
#include "kiln/repository_area.hpp"
#include "label_instruction.hpp"
#include "layer_cache.hpp"
#include "onbuild_triggers.hpp"
#include "scratch_file.hpp"
#include "step_args.hpp"

namespace kiln::buildah {
namespace fs = std::filesystem;
namespace {

// A directory of the repository's area in the build cache (kiln/repository_area.hpp),
// bind-mounted into every RUN step: `buildah/id/<id>`, or with `language` set, that
// language's dependency cache laid out as kiln/dependency_caches.hpp says under
// `buildah/deps/`. The cache plugin counts and evicts the area as a whole.
struct CacheMount {
  std::string id;
  std::string target;
  std::optional<dependency_caches::Language> language;
};

struct BuildRequest {
  std::string context;
  std::string dockerfile;
  std::vector<std::string> tags;
  std::map<std::string, std::string> build_args;
  std::string target;
  std::map<std::string, std::string> labels;
  bool layers = true;
  std::vector<CacheMount> cache_mounts;
  bool host_network = false;
  std::string repository;
  std::string created;  // empty: the time of the build
};

std::string ParseCacheMounts(const nlohmann::json& args, std::vector<CacheMount>& out) {
  auto it = args.find("cache_mounts");
  if (it == args.end() || it->is_null()) return {};
  if (!it->is_array()) return "cache_mounts: must be a list, got " + it->dump();
  static const std::regex kId("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  for (const auto& item : *it) {
    CacheMount mount;
    if (item.is_string()) {
      mount.target = item.get<std::string>();
    } else if (item.is_object() && item.contains("target") && item.at("target").is_string()) {
      mount.target = item.at("target").get<std::string>();
      for (const auto& [key, value] : item.items()) {
        if (key != "target" && key != "id" && key != "cache") {
          return "cache_mounts: unknown key '" + key + "' (known: target, id, cache)";
        }
      }
      if (item.contains("id")) {
        if (!item.at("id").is_string()) return "cache_mounts: id must be a string, got " + item.at("id").dump();
        mount.id = item.at("id").get<std::string>();
      }
      if (item.contains("cache")) {
        dependency_caches::Language language;
        if (!item.at("cache").is_string() || !dependency_caches::ParseLanguage(item.at("cache").get<std::string>(), &language)) {
          return "cache_mounts: cache must name a dependency cache (maven, gradle, npm, go, nuget, pip), got " +
                 item.at("cache").dump();
        }
        if (item.contains("id")) return "cache_mounts: give either id or cache, not both";
        mount.language = language;
        mount.id = std::string(dependency_caches::LanguageName(language));
      }
    } else {
      return "cache_mounts: each entry must be a path, { target = path, id = name } or { target = path, cache = "
             "language }, got " + item.dump();
    }
    if (mount.target.empty() || mount.target.front() != '/' ||
        mount.target.find_first_of(":,") != std::string::npos || mount.target.find("..") != std::string::npos) {
      return "cache_mounts: target must be an absolute path without ':', ',' or '..', got '" + mount.target + "'";
    }
    if (mount.id.empty()) mount.id = SanitizeTag(mount.target);
    if (!std::regex_match(mount.id, kId)) {
      return "cache_mounts: id must match [A-Za-z0-9_][A-Za-z0-9_.-]*, got '" + mount.id + "'";
    }
    out.push_back(mount);
  }
  return {};
}

std::string ParseRequest(const nlohmann::json& args, BuildRequest& request) {
  std::string error;
  if (!(error = CheckKnownArgs(args, {"context", "dockerfile", "tags", "build_args", "target", "labels",
                                      "layers", "cache_mounts", "network", "repository", "created", "cache"}))
           .empty()) {
    return error;
  }
  if (!(error = ReadStringArg(args, "context", true, request.context)).empty()) return error;
  if (!(error = ReadStringArg(args, "dockerfile", false, request.dockerfile)).empty()) return error;
  if (!(error = ReadStringListArg(args, "tags", request.tags)).empty()) return error;
  if (!(error = ReadStringMapArg(args, "build_args", request.build_args)).empty()) return error;
  static const std::regex kArgName("[A-Za-z_][A-Za-z0-9_]*");
  for (const auto& [name, value] : request.build_args) {
    if (!std::regex_match(name, kArgName)) return "build_args: '" + name + "' is not a valid ARG name";
  }
  if (!(error = ReadStringArg(args, "target", false, request.target)).empty()) return error;
  if (!(error = ReadStringMapArg(args, "labels", request.labels)).empty()) return error;
  for (const auto& [name, value] : request.labels) {
    if (name.empty() || name.find('=') != std::string::npos) return "labels: '" + name + "' is not a valid label name";
  }
  if (!(error = ReadBoolArg(args, "layers", request.layers)).empty()) return error;
  if (!(error = ParseCacheMounts(args, request.cache_mounts)).empty()) return error;
  std::string network = "none";
  if (!(error = ReadStringArg(args, "network", false, network)).empty()) return error;
  if (network != "none" && network != "host") return "network: must be 'none' or 'host', got '" + network + "'";
  request.host_network = network == "host";
  if (!(error = ReadStringArg(args, "repository", false, request.repository)).empty()) return error;
  if (!(error = ReadStringArg(args, "created", false, request.created)).empty()) return error;
  static const std::regex kRfc3339("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})");
  if (!request.created.empty() && !std::regex_match(request.created, kRfc3339)) {
    return "created: must be an RFC 3339 time like 2026-11-22T10:15:02Z, got '" + request.created + "'";
  }
  return {};
}

/// A file name for buildah to write to (an image id): not in the workspace, which may be
/// the build context itself.
fs::path ScratchFile(std::string_view suffix) {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  return fs::temp_directory_path() /
         ("kiln-buildah-" + std::to_string(random()) + "-" + std::to_string(counter++) + std::string(suffix));
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  auto begin = text.find_first_not_of(" \t\r\n");
  return begin == std::string::npos ? std::string() : text.substr(begin);
}

/// The id of `image` in the store; nullopt when it is not there (or buildah failed: the
/// result says which).
std::optional<std::string> StoredImageId(const BuildahConfig& config, const std::string& image, StepContext& ctx,
                                         ProcessResult* result = nullptr) {
  ProcessResult inspected =
      RunQuiet(ctx, BuildahArgv(config, {"inspect", "--type", "image", "--format", "{{.FromImageID}}", "--", image}));
  std::optional<std::string> id;
  if (inspected.ok()) id = Trimmed(inspected.output_tail);
  if (result != nullptr) *result = std::move(inspected);
  return id;
}

/// Pulls, with network, each image the build reads and the store lacks, so the build
/// itself can run without network; `ids` gets the store's id of each image (the build key
/// and the ONBUILD check need them). A failure is classified like any buildah failure.
StepResult PrefetchImages(const BuildahConfig& config, const std::vector<std::string>& images,
                          const ImageStoreIndex& store, StepContext& ctx, std::map<std::string, std::string>* ids) {
  for (const std::string& image : images) {
    if (ctx.cancelled()) return StepResult::Terminal("buildah build: cancelled");
    if (auto id = store.IdOf(image)) {
      (*ids)[image] = *id;
      continue;
    }
    ProcessResult present;
    if (auto id = StoredImageId(config, image, ctx, &present)) {
      (*ids)[image] = *id;
      continue;
    }
    if (!present.started) return FailureResult(present, "buildah inspect " + image);
    ctx.log("pulling " + image + " before the build, which runs with --pull=never");
    std::vector<std::string> pull = {"pull", "--quiet"};
    for (std::string& option : RegistryOptions(config)) pull.push_back(std::move(option));
    pull.insert(pull.end(), {"--", image});
    ProcessResult pulled = RunLogged(ctx, BuildahArgv(config, pull));
    if (!pulled.ok()) return FailureResult(pulled, "buildah pull " + image);
    ProcessResult stored;
    std::optional<std::string> id = StoredImageId(config, image, ctx, &stored);
    if (!id) return FailureResult(stored, "buildah inspect " + image + " after pulling it");
    (*ids)[image] = *id;
  }
  return StepResult::Ok();
}

std::string JobCommit(const nlohmann::json& job) {
  auto it = job.is_object() ? job.find("commit") : job.end();
  return it != job.end() && it->is_string() ? it->get<std::string>() : std::string();
}

constexpr std::string_view kCreatedLabel = "org.opencontainers.image.created";

/// The build key (build_key.hpp) of this build; empty when a base image is not in the store
/// yet (nothing earlier can match) or the context cannot be read (warned). `base_ids`: the
/// bases' ids PrefetchImages already read; the others are looked up in `store`, else asked
/// of buildah.
std::string KeyOfThisBuild(const BuildahConfig& config, const BuildRequest& request, const Dockerfile& dockerfile,
                           const std::map<std::string, std::string>& labels, const std::vector<std::string>& mounts,
                           const std::map<std::string, std::string>& base_ids, const ImageStoreIndex& store,
                           StepContext& ctx) {
  BuildKeyInputs inputs{dockerfile.context, dockerfile.path, request.target, request.build_args, labels, {}, {}};
  if (request.created.empty() && !request.labels.count(std::string(kCreatedLabel))) {
    inputs.labels.erase(std::string(kCreatedLabel));
  }
  for (const std::string& image : dockerfile.external_images) {
    if (auto known = base_ids.find(image); known != base_ids.end()) {
      inputs.base_images.emplace_back(image, known->second);
    } else if (auto indexed = store.IdOf(image)) {
      inputs.base_images.emplace_back(image, *indexed);
    } else if (auto id = StoredImageId(config, image, ctx)) {
      inputs.base_images.emplace_back(image, *id);
    } else {
      return {};
    }
  }
  inputs.settings = {"isolation=" + config.isolation, std::string("network=") + (request.host_network ? "host" : "none")};
  for (const std::string& mount : mounts) inputs.settings.push_back("mount=" + mount);
  std::string error;
  std::string key = BuildKey(inputs, &error);
  if (key.empty()) ctx.warn("not looking for an identical earlier build: " + error);
  return key;
}

/// The step's result for `image_id`, built now or reused; `store` read since it was made.
StepResult Finished(const BuildahConfig& config, const std::string& image_id, const std::vector<std::string>& references,
                    const std::string& repository, const Dockerfile& dockerfile, bool reused,
                    const ImageStoreIndex& store, StepContext& ctx) {
  std::string digest;
  if (auto indexed = store.DigestOf(image_id)) {
    digest = *indexed;
  } else {
    ProcessResult inspected =
        RunQuiet(ctx, BuildahArgv(config, {"inspect", "--type", "image", "--format", "{{.FromImageDigest}}", "--", image_id}));
    if (!inspected.ok()) return FailureResult(inspected, "buildah inspect " + image_id);
    digest = Trimmed(inspected.output_tail);
  }

  ctx.progress(100, (reused ? "reused " : "built ") + references.front());
  nlohmann::json outputs = {{"image_id", image_id},
                            {"digest", digest},
                            {"tags", references},
                            {"repository", repository},
                            {"dockerfile", dockerfile.path.string()},
                            {"reused", reused}};
  return StepResult::Ok(std::move(outputs), (reused ? "reused " : "built ") + references.front() + " (" + digest + ")");
}

/// The image an earlier build with `key` made, when the store still has it: by its record
/// (image_store_index.hpp) where the store's image list can be read, else by its label.
std::optional<std::string> EarlierBuild(const BuildahConfig& config, const std::string& key,
                                        const ImageStoreIndex& store, StepContext& ctx) {
  if (store.loaded()) {
    std::optional<std::string> recorded = RecordedBuild(config, key);
    if (recorded && store.Has(*recorded)) return recorded;
    return std::nullopt;
  }
  ProcessResult found = RunQuiet(ctx, BuildahArgv(config, {"images", "--noheading", "--no-trunc", "--filter",
                                                           "label=" + std::string(kBuildKeyLabel) + "=" + key,
                                                           "--format", "{{.ID}}", "--"}));
  if (!found.ok()) return std::nullopt;
  std::string image_id = Trimmed(found.output_tail);
  image_id = image_id.substr(0, image_id.find('\n'));
  if (image_id.rfind("sha256:", 0) == 0) image_id = image_id.substr(7);
  if (image_id.empty()) return std::nullopt;
  return image_id;
}

/// When an image with `key` is in the store, tags it with `references` and returns the
/// step's result; nullopt when there is none.
std::optional<StepResult> TagEarlierBuild(const BuildahConfig& config, const std::string& key,
                                          const std::vector<std::string>& references, const std::string& repository,
                                          const Dockerfile& dockerfile, const ImageStoreIndex& store,
                                          StepContext& ctx) {
  const std::optional<std::string> earlier = EarlierBuild(config, key, store, ctx);
  if (!earlier) return std::nullopt;
  const std::string& image_id = *earlier;
  std::vector<std::string> tag = {"tag", "--", image_id};
  tag.insert(tag.end(), references.begin(), references.end());
  ProcessResult tagged = RunQuiet(ctx, BuildahArgv(config, tag));
  if (!tagged.ok()) return FailureResult(tagged, "buildah tag " + image_id);
  ctx.log("context, Dockerfile, arguments and base images unchanged since image " + image_id.substr(0, 12) +
          " was built: tagging it instead of building again");
  return Finished(config, image_id, references, repository, dockerfile, /*reused=*/true, store, ctx);
}

}  // namespace

StepResult RunBuild(const BuildahConfig& config, const nlohmann::json& args, StepContext& ctx) {
  BuildRequest request;
  if (std::string error = ParseRequest(args, request); !error.empty()) {
    return StepResult::Terminal("buildah.build: " + error);
  }

  Dockerfile dockerfile;
  std::string error;
  if (!LocateDockerfile(ctx.workspace(), request.context, request.dockerfile, dockerfile, error)) {
    return StepResult::Terminal("buildah.build: " + error);
  }
  std::ifstream in(dockerfile.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return StepResult::Terminal("buildah.build: cannot read Dockerfile " + dockerfile.path.string());
  const IsSecret is_secret = [&ctx](std::string_view value) { return ctx.is_secret(value); };
  if (!ParseDockerfile(text.str(), request.build_args, is_secret, dockerfile, error)) {
    return StepResult::Terminal("buildah.build: Dockerfile " + dockerfile.path.string() + ": " + error);
  }

  std::string repository = request.repository;
  if (repository.empty()) {
    repository = ExpandRepository(config.repository, ctx.job(), error);
    if (repository.empty()) return StepResult::Terminal("buildah.build: buildah.repository: " + error);
  } else if (!IsValidRepository(repository)) {
    return StepResult::Terminal("buildah.build: repository: '" + repository + "' is not a valid image repository");
  }

  std::vector<std::string> tags = TagsForJob(ctx.job());
  for (const std::string& given : request.tags) {
    std::string tag = SanitizeTag(given);
    if (tag.empty()) return StepResult::Terminal("buildah.build: tags: '" + given + "' leaves no valid tag");
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  if (tags.empty()) {
    return StepResult::Terminal("buildah.build: tags: none given and the job has no commit or branch");
  }
  std::vector<std::string> references;
  for (const std::string& tag : tags) references.push_back(repository + ":" + tag);

  // The commit's time, not the build's, dates the image (SOURCE_DATE_EPOCH): one commit,
  // one image digest on any worker, and an unchanged rebuild entirely from the cache.
  std::string no_commit_time;
  const std::optional<std::int64_t> commit_time =
      CommitTime(dockerfile.context, ctx.workspace(), JobCommit(ctx.job()), ctx, no_commit_time);
  std::map<std::string, std::string> labels = OciLabelsForJob(
      ctx.job(), commit_time ? std::chrono::system_clock::time_point(std::chrono::seconds(*commit_time))
                             : std::chrono::system_clock::now());
  if (!commit_time) ctx.log("dating the image with the build's time: " + no_commit_time);
  if (!request.created.empty()) labels[std::string(kCreatedLabel)] = request.created;
  for (const auto& [name, value] : request.labels) labels[name] = value;

  std::vector<std::string> bud = {"bud", "--isolation", config.isolation, "-f", dockerfile.path.string()};
  constexpr std::size_t kDockerfileArgument = 4;  // replaced by the copy with the labels, below
  bud.push_back(request.layers ? "--layers" : "--layers=false");
  // The image's config, history and every file of the layers it commits get this time.
  if (commit_time) bud.insert(bud.end(), {"--timestamp", std::to_string(*commit_time)});
  if (!request.target.empty()) bud.insert(bud.end(), {"--target", request.target});
  BuildArgPassing build_args;
  if (std::string refused = PassBuildArgs(request.build_args, is_secret, build_args); !refused.empty()) {
    return StepResult::Terminal("buildah.build: " + refused);
  }
  bud.insert(bud.end(), build_args.flags.begin(), build_args.flags.end());
  // buildah records the build args a RUN step saw in the image's history
  // ("|1 TOKEN=value /bin/sh -c ..."), which a push publishes: no history with a secret.
  if (!build_args.env.empty()) bud.push_back("--omit-history");
  for (const std::string& reference : references) bud.insert(bud.end(), {"-t", reference});
  for (std::string& option : RegistryOptions(config)) bud.push_back(std::move(option));

  std::error_code ec;
  std::vector<std::string> mounts;  // host:target
  // The repository's own (kiln/repository_area.hpp): RUN steps are the repository's code,
  // and what they leave in a cache must not reach another repository's build. Apart from
  // the areas its sandboxed processes write (deps/, nx/), whose links a bind made as root
  // would follow.
  const fs::path area_root = repository_area::AreaRoot(ctx.build_cache_dir(), ctx.job());
  const fs::path buildah_area = area_root / "buildah";
  if (!request.cache_mounts.empty()) {
    if (std::string failed = repository_area::MarkUsed(area_root); !failed.empty()) {
      return StepResult::Retryable("buildah.build: cache_mounts: " + failed);
    }
  }
  for (const CacheMount& mount : request.cache_mounts) {
    fs::path host;
    if (mount.language) {
      const auto area = dependency_caches::CacheAreaFor(*mount.language, buildah_area / "deps");
      if (std::string failed = dependency_caches::PrepareArea(area); !failed.empty()) {
        return StepResult::Terminal("buildah.build: cache_mounts: " + failed);
      }
      host = area.dirs.front();
    } else {
      host = buildah_area / "id" / mount.id;
      fs::create_directories(host, ec);
      if (ec) return StepResult::Terminal("buildah.build: cache_mounts: cannot create " + host.string() + ": " + ec.message());
    }
    mounts.push_back(host.string() + ":" + mount.target);
    bud.insert(bud.end(), {"-v", mounts.back()});
  }

  LayerCache layer_cache;
  if (std::string bad = ParseLayerCache(args, config, layer_cache); !bad.empty()) {
    return StepResult::Terminal("buildah.build: " + bad);
  }
  if (layer_cache.enabled()) {
    // Both limits are buildah 1.28's (layer_cache.hpp): said, and the configured cache skipped.
    std::string unusable;
    if (!request.layers) {
      unusable = "it needs layers = true";
    } else if (config.isolation == "chroot" && !request.host_network) {
      unusable = "buildah reaches the cache registry during the build, and under chroot isolation only with "
                 "network = \"host\" (RUN steps would share it)";
    }
    if (!unusable.empty() && layer_cache.explicit_) return StepResult::Terminal("buildah.build: cache: " + unusable);
    if (!unusable.empty()) {
      ctx.log("not using buildah.layer_cache " + config.layer_cache + ": " + unusable);
      layer_cache = {};
    }
  }

  bool unshare_network = false;
  const ImageStoreIndex store = ImageStoreIndex::Load(config);
  std::map<std::string, std::string> base_ids;  // each external image's id in the store
  // Every image the Dockerfile names is pulled first, whatever the network, so that its
  // ONBUILD triggers are checked before buildah runs them (onbuild_triggers.hpp).
  if (dockerfile.unresolved_images) {
    ctx.warn("some FROM or COPY --from names an image through an unset ARG: it must already be in the store, "
             "and its ONBUILD triggers are not checked");
  }
  if (StepResult prefetch = PrefetchImages(config, dockerfile.external_images, store, ctx, &base_ids); !prefetch.ok()) {
    return prefetch;
  }
  if (std::string refused =
          CheckOnBuildTriggers(config, base_ids, request.build_args, is_secret, dockerfile.context, ctx);
      !refused.empty()) {
    return StepResult::Terminal("buildah.build: " + refused);
  }
  bud.push_back("--pull=never");
  if (request.host_network) {
    bud.insert(bud.end(), {"--network", "host"});
  } else if (config.isolation == "chroot") {
    // chroot isolation shares the worker's network and buildah 1.28 refuses
    // `--network none` with it: run buildah itself in an empty network namespace.
    unshare_network = true;
  } else {
    bud.insert(bud.end(), {"--network", "none"});
  }

  // layers = false asks for a build from nothing: no reuse either.
  std::string key;
  if (request.layers && !dockerfile.unresolved_images) {
    key = KeyOfThisBuild(config, request, dockerfile, labels, mounts, base_ids, store, ctx);
    if (!key.empty()) {
      if (std::optional<StepResult> reused =
              TagEarlierBuild(config, key, references, repository, dockerfile, store, ctx)) {
        return *reused;
      }
      labels[std::string(kBuildKeyLabel)] = key;
    }
  }

  // All labels in one LABEL step of a copy of the Dockerfile (label_instruction.hpp); as
  // --label options (one step each) only when they cannot be placed there.
  fs::path labelled = ScratchFile(".Dockerfile");
  RemovedFile remove_labelled(labelled);
  if (std::optional<std::string> with_labels = WithLabelInstruction(text.str(), request.target, labels)) {
    if (std::string failed = WriteScratch(labelled, *with_labels); !failed.empty()) {
      return StepResult::Terminal("buildah.build: " + failed);
    }
    bud[kDockerfileArgument] = labelled.string();
  } else {
    for (const auto& [name, value] : labels) bud.insert(bud.end(), {"--label", name + "=" + value});
  }

  if (layer_cache.enabled()) {
    for (std::string& option : LayerCacheOptions(layer_cache)) bud.push_back(std::move(option));
    ctx.log("layer cache: from " + (layer_cache.from.empty() ? std::string("-") : layer_cache.from) + ", to " +
            (layer_cache.to.empty() ? std::string("-") : layer_cache.to));
  }

  fs::path iidfile = ScratchFile(".iid");
  bud.insert(bud.end(), {"--iidfile", iidfile.string()});
  bud.insert(bud.end(), {"--", dockerfile.context.string()});

  std::vector<std::string> argv = BuildahArgv(config, bud);
  // chroot isolation also shares the worker's PID namespace: a RUN step (root) could read
  // /proc/<worker>/environ and signal the worker. buildah runs as the first process of a PID
  // namespace of its own, with its own /proc, so a RUN step sees buildah's processes only.
  std::vector<std::string> wrapper = {config.unshare, "--pid", "--fork", "--mount-proc"};
  if (unshare_network) wrapper.push_back("--net");
  wrapper.push_back("--");
  argv.insert(argv.begin(), wrapper.begin(), wrapper.end());

  std::string tag_list;
  for (const std::string& tag : tags) tag_list += (tag_list.empty() ? "" : ", ") + tag;
  ctx.log("buildah bud " + dockerfile.path.string() + " -> " + repository + ":{" + tag_list + "} (network " +
          (request.host_network ? "host" : "none") + ", layers " + (request.layers ? "on" : "off") + ")");
  ctx.progress(0, "building " + dockerfile.path.string());

  ProcessResult built = RunLogged(ctx, argv, build_args.env);
  std::string image_id;
  {
    std::ifstream id_in(iidfile);
    std::getline(id_in, image_id);
    fs::remove(iidfile, ec);
  }
  if (!built.ok()) return FailureResult(built, "buildah bud of " + dockerfile.path.string());
  image_id = Trimmed(image_id);
  if (image_id.rfind("sha256:", 0) == 0) image_id = image_id.substr(7);
  if (image_id.empty()) return StepResult::Terminal("buildah bud of " + dockerfile.path.string() + ": wrote no image id");
  if (!key.empty()) {
    if (std::string failed = RecordBuild(config, key, image_id); !failed.empty()) {
      ctx.warn("an identical build will not find this image: " + failed);
    }
  }
  return Finished(config, image_id, references, repository, dockerfile, /*reused=*/false,
                  ImageStoreIndex::Load(config), ctx);
}

}  // namespace kiln::buildah
