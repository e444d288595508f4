-- Cache eviction as a job: run it from a schedule (docs/operations.md, "Schedules").
--
--   schedules:
--     - name: cache-gc
--       cron: "30 3 * * *"        # 03:30 UTC every day
--       job:
--         repo: { url: "https://kiln.invalid/maintenance/cache-gc.git" }  -- required by the job message;
--         commit: "0000000000000000000000000000000000000000"             -- neither is fetched here
--         pipeline: cache-gc
--         env: { CACHE_MAX_SIZE: "20GiB", CACHE_MAX_AGE: "14d" }       -- optional, else cache.max_size/max_age
--
-- The job runs on one worker (the one that takes it) and evicts that worker's dependency
-- cache (build.build_cache_path). Workers that share a cache volume share one eviction; a
-- worker with its own disk needs its own, e.g. `kiln cache gc` from a systemd timer.
local args = {}
if job.env and job.env.CACHE_MAX_SIZE then args.max_size = job.env.CACHE_MAX_SIZE end
if job.env and job.env.CACHE_MAX_AGE then args.max_age = job.env.CACHE_MAX_AGE end

local report = kiln.step("cache gc", function() return cache.gc(args) end)
kiln.log(string.format("cache gc: %d bytes before, %d after, %d entries evicted",
  report.bytes_before or 0, report.bytes_after or 0, report.evicted and #report.evicted or 0))
return { gc = report }
