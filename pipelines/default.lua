-- The pipeline for a repository that has none of its own: sync the commit, build with NX
-- when the repository is an NX workspace (its installed dependencies restored from and saved
-- to the cache plugin's keyed store when it has a lockfile), build an image when it has a
-- Dockerfile. Each phase needs its plugin (`kiln plugins` lists them).

kiln.defaults { retry = { attempts = 3, backoff = "exponential", initial = "2s", max = "30s", jitter = 0.2 } }

local has_branch = job.branch ~= nil and job.branch ~= ""

local src = kiln.step("git sync", { retry = { attempts = 5, initial = "1s" } }, function()
  return git.sync { url = job.repo.url, commit = job.commit, ref = has_branch and ("refs/heads/" .. job.branch) or nil }
end)

local dockerfile = kiln.exists(src.path .. "/Dockerfile") or kiln.exists(src.path .. "/Containerfile")

if kiln.exists(src.path .. "/nx.json") then
  -- The job's env (`kiln run --env`, the job message's `env`) reaches the install and NX:
  -- CYPRESS_INSTALL_BINARY=0, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 and the like.
  local env = {}
  for name, value in pairs(job.env or {}) do env[name] = value end

  -- The installed dependencies are kept by the cache plugin, one entry per lockfile, package
  -- manager and version (package.json's packageManager) and linker: with NX's own cache (kept
  -- by the nx plugin) it is what makes the next commit's build fast, since the install
  -- otherwise takes most of it. nx.build does not install again when the restored
  -- node_modules came from this very lockfile. node_modules is the root's and every
  -- workspace package's (pnpm links each package's own); with yarn's Plug'n'Play, .pnp.cjs
  -- and .yarn/cache instead.
  local pm = kiln.step("package manager", function() return nx.package_manager { dir = src.path } end)
  local deps = nil
  if pm.lockfile ~= "" then
    deps = kiln.step("restore dependencies", function()
      local files, paths = {}, {}
      for i, file in ipairs(pm.key_files) do files[i] = src.path .. "/" .. file end
      for i, path in ipairs(pm.paths) do paths[i] = src.path .. "/" .. path end
      local version = pm.pinned and pm.version or "unpinned"
      local key = "deps-" .. pm.name .. "-" .. version .. "-" .. pm.linker .. "-" .. cache.hash { files = files }.hash
      local restored = cache.restore { key = key, paths = paths }
      return { key = key, paths = paths, hit = restored.hit }
    end)
  end
  kiln.step("nx build", { timeout = "30m" }, function()
    -- `nx affected` leaves the projects it skips unbuilt in this fresh clone, and the image
    -- may copy their outputs: with a Dockerfile every project is built (run-many), the
    -- unchanged ones coming from NX's cache.
    local before = (not dockerfile) and job.before or nil
    if before == nil or before == "" or before:match("^0+$") then before = nil end
    return nx.build { dir = src.path, targets = { "build" }, base = before, head = before and job.commit or nil, env = env }
  end)
  if deps and deps.hit ~= "exact" then
    kiln.step("save dependencies", function()
      return cache.save { key = deps.key, paths = deps.paths }
    end)
  end
end

if dockerfile then
  local tags = { job.commit:sub(1, 12) }
  if has_branch then tags[#tags + 1] = job.branch end
  local image = kiln.step("image", { timeout = "30m" }, function()
    return buildah.build { context = src.path, tags = tags }
  end)
  return { image = image }
end
