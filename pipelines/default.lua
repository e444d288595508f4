-- The pipeline for a repository that has none of its own: sync the commit, build with NX
-- when the repository is an NX workspace (its node_modules restored from and saved to the
-- cache plugin's keyed store when it has a package-lock.json), build an image when it has a
-- Dockerfile. Each phase needs its plugin (`kiln plugins` lists them).

kiln.defaults { retry = { attempts = 3, backoff = "exponential", initial = "2s", max = "30s", jitter = 0.2 } }

local has_branch = job.branch ~= nil and job.branch ~= ""

local src = kiln.step("git sync", { retry = { attempts = 5, initial = "1s" } }, function()
  return git.sync { url = job.repo.url, commit = job.commit, ref = has_branch and ("refs/heads/" .. job.branch) or nil }
end)

local dockerfile = kiln.exists(src.path .. "/Dockerfile") or kiln.exists(src.path .. "/Containerfile")

if kiln.exists(src.path .. "/nx.json") then
  -- node_modules is kept by the cache plugin, one entry per lockfile: with NX's own cache
  -- (kept by the nx plugin) it is what makes the next commit's build fast, since `npm ci`
  -- otherwise takes most of it. nx.build does not install again when the restored
  -- node_modules came from this very lockfile.
  local modules = nil
  if kiln.exists(src.path .. "/package-lock.json") then
    modules = kiln.step("restore node_modules", function()
      local lockfile = cache.hash { files = { src.path .. "/package-lock.json" } }
      local key = "node-modules-" .. lockfile.hash
      local restored = cache.restore { key = key, paths = { src.path .. "/node_modules" } }
      return { key = key, hit = restored.hit }
    end)
  end
  kiln.step("nx build", { timeout = "30m" }, function()
    -- `nx affected` leaves the projects it skips unbuilt in this fresh clone, and the image
    -- may copy their outputs: with a Dockerfile every project is built (run-many), the
    -- unchanged ones coming from NX's cache.
    local before = (not dockerfile) and job.before or nil
    if before == nil or before == "" or before:match("^0+$") then before = nil end
    return nx.build { dir = src.path, targets = { "build" }, base = before, head = before and job.commit or nil }
  end)
  if modules and modules.hit ~= "exact" then
    kiln.step("save node_modules", function()
      return cache.save { key = modules.key, paths = { src.path .. "/node_modules" } }
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
