// The drivers and vehicles behind the measurements. Attributes are a pure function of the vehicle id, so
// the simulator, the CSV source and the shipped data/vehicles.csv and data/drivers.csv always agree, and the
// database rows a run upserts are the same on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fp::gen {

struct Driver {
  int32_t id = 0;
  std::string name;
  std::string license_number;
};

struct Vehicle {
  int32_t id = 0;
  int32_t driver_id = 0;
  std::string make;
  std::string model;
  double fuel_capacity = 0;  // US gallons
  std::string color;
  double miles_per_gallon = 0;  // not stored; drives the simulator's fuel use
};

// Vehicle `id` and its driver (driver id = vehicle id).
Vehicle vehicle_for(int32_t id);
Driver driver_for(int32_t id);

// CSV files (header + rows) with the attributes of the given vehicles and their drivers.
std::string vehicles_csv(const std::vector<Vehicle>& vehicles);
std::string drivers_csv(const std::vector<Driver>& drivers);

// A stateless 64-bit mix (splitmix64's finaliser): the basis of every derived value and random stream.
uint64_t mix64(uint64_t x);

}  // namespace fp::gen
