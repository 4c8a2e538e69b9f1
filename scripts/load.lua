-- wrk script of scripts/load.sh: requests rotate over the busy sites (busy001.test ...), and each
-- connection pauses 20 ms between requests, a steady load rather than a flood.
local n = tonumber(os.getenv("LOAD_BUSY") or "20")
local hosts = {}
for i = 1, n do
  hosts[i] = string.format("busy%03d.test", i)
end
local count = 0

request = function()
  count = count + 1
  return wrk.format("GET", "/index.php", { Host = hosts[(count % n) + 1] })
end

delay = function()
  return 20
end
