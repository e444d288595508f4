-- The pipeline for a repository that has none of its own: sync the commit, build with NX
-- when the repository is an NX workspace, build an image when it has a Dockerfile.
-- Each phase runs only when its plugin is loaded (`kiln plugins` lists them).

kiln.defaults { retry = { attempts = 3, backoff = "exponential", initial = "2s", max = "30s", jitter = 0.2 } }

local has_branch = job.branch ~= nil and job.branch ~= ""

local src = kiln.step("git sync", { retry = { attempts = 5, initial = "1s" } }, function()
  return git.sync { url = job.repo.url, commit = job.commit, ref = has_branch and ("refs/heads/" .. job.branch) or nil }
end)

if kiln.exists(src.path .. "/nx.json") then
  kiln.step("nx build", { timeout = "30m" }, function()
    local before = job.before
    if before == nil or before == "" or before:match("^0+$") then before = nil end
    return nx.build { dir = src.path, targets = { "build" }, base = before, head = before and job.commit or nil }
  end)
end

local dockerfile = kiln.exists(src.path .. "/Dockerfile") or kiln.exists(src.path .. "/Containerfile")
if dockerfile then
  local tags = { job.commit:sub(1, 12) }
  if has_branch then tags[#tags + 1] = job.branch end
  local image = kiln.step("image", { timeout = "30m" }, function()
    return buildah.build { context = src.path, tags = tags }
  end)
  return { image = image }
end
