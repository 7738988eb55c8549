-- wrk script: POSTs valid, distinct trips to /submit with a valid CSRF cookie + field.
-- Env: CSRF_TOKEN (from GET /), TRIP_BASE (a trip_id range start unused so far), VEHICLES (ids 1..VEHICLES).
local token = os.getenv("CSRF_TOKEN")
local trip_base = tonumber(os.getenv("TRIP_BASE") or "5000000")
local vehicles = tonumber(os.getenv("VEHICLES") or "100")
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "fp_csrf=" .. token
end

function request()
  counter = counter + 1
  -- (vehicle, trip, sequence) is unique: each thread owns a trip id, the counter never repeats in a thread.
  local body = string.format(
    "vehicle_id=%d&trip_id=%d&measurement_sequence=%d&measurement_time=2025-01-01+00%%3A00%%3A00&" ..
    "latitude=45.5&longitude=-120.25&fuel_capacity=50&distance_traveled=%d&fuel_remaining_percent=50&" ..
    "fuel_remaining_gallon=25&color=blue&csrf_token=%s",
    1 + counter % vehicles, trip_base + thread_id, counter, counter, token)
  return wrk.format(nil, "/submit", nil, body)
end
