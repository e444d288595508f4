// Which languages a source tree uses, told by the marker files at its top. The cache areas
// themselves (where each language's downloads live) are the SDK's
// (kiln/dependency_caches.hpp), shared with the NX and buildah plugins.
//
// Thread safety: reads the file system only; safe to call from any thread.
#pragma once

#include <filesystem>
#include <vector>

#include "kiln/dependency_caches.hpp"

namespace kiln::cache {

using dependency_caches::AllLanguages;
using dependency_caches::CacheAreaFor;
using dependency_caches::kLastUsedMarker;
using dependency_caches::Language;
using dependency_caches::LanguageCacheArea;
using dependency_caches::LanguageName;
using dependency_caches::ParseLanguage;
using dependency_caches::PrepareArea;

/// The languages whose marker files are in `dir`: pom.xml (maven); build.gradle[.kts] or
/// settings.gradle[.kts] (gradle); *.sln, *.csproj, *.fsproj, *.vbproj, at the top or one
/// directory down (nuget); go.mod or go.work (go); package.json (npm); pyproject.toml,
/// requirements.txt, setup.py, Pipfile (pip). In AllLanguages() order, without repeats.
/// A directory that cannot be read gives no languages.
std::vector<Language> DetectLanguages(const std::filesystem::path& dir);

}  // namespace kiln::cache
