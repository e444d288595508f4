// Shared helpers of the cache plugin's tests: small trees on the real file system.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"

namespace kiln::cache::testing {

namespace fs = std::filesystem;

/// A tree with nested dirs, an empty dir, a symlink, an executable, a read-only dir and
/// odd names: the cases a copy gets wrong.
inline void MakeSampleTree(const fs::path& root) {
  using kiln::testing::WriteFile;
  WriteFile(root / "a.txt", "alpha\n");
  WriteFile(root / "sub" / "b.txt", std::string(100000, 'b'));
  WriteFile(root / "sub" / "deeper" / "c.txt", "c");
  WriteFile(root / "name with space\nand newline", "odd");
  WriteFile(root / "bin" / "tool", "#!/bin/sh\necho hi\n");
  fs::permissions(root / "bin" / "tool", fs::perms(0755));
  fs::create_directories(root / "empty");
  fs::create_symlink("sub/b.txt", root / "link-to-b");
  WriteFile(root / "ro" / "mod.go", "package mod\n");
  fs::permissions(root / "ro" / "mod.go", fs::perms(0444));
  fs::permissions(root / "ro", fs::perms(0555));
}

/// "mode size mtime path [-> target]" per entry, sorted: equal listings, equal trees.
std::string DescribeTree(const fs::path& root);

/// Many small files, for concurrency tests: `files` files of `size` bytes in 10 dirs.
void MakeWideTree(const fs::path& root, int files, std::size_t size, char fill);

}  // namespace kiln::cache::testing
