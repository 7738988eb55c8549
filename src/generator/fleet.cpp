#include "generator/fleet.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace fp::gen {

namespace {

struct Model {
  std::string_view make, model;
  double fuel_capacity, mpg;
};
// Real models with their tank sizes and typical highway economy.
constexpr std::array<Model, 10> kModels = {{
    {"Ford", "F-150", 26.0, 20.0},
    {"Toyota", "Camry", 15.8, 32.0},
    {"Honda", "CR-V", 14.0, 30.0},
    {"Chevrolet", "Silverado", 24.0, 19.0},
    {"Ram", "1500", 26.0, 21.0},
    {"Freightliner", "Cascadia", 150.0, 7.0},
    {"Nissan", "Altima", 16.2, 32.0},
    {"Jeep", "Grand Cherokee", 24.6, 23.0},
    {"Subaru", "Outback", 18.5, 30.0},
    {"Ford", "Transit", 25.0, 17.0},
}};
constexpr std::array<std::string_view, 9> kColors = {"red",   "blue",  "green",  "yellow", "orange",
                                                     "white", "black", "silver", "gray"};
constexpr std::array<std::string_view, 12> kFirst = {"James", "Maria",  "Robert", "Linda",
                                                     "Wei",   "Aisha",  "Carlos", "Emily",
                                                     "Andre", "Sophie", "Daniel", "Priya"};
constexpr std::array<std::string_view, 12> kLast = {"Smith",  "Garcia",   "Johnson",  "Nguyen",
                                                    "Brown",  "Tremblay", "Martinez", "Lee",
                                                    "Wilson", "Roy",      "Patel",    "Anderson"};
constexpr std::array<std::string_view, 8> kStates = {"NY", "CA", "TX", "WA", "IL", "FL", "ON", "QC"};

}  // namespace

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Vehicle vehicle_for(int32_t id) {
  const uint64_t h = mix64(static_cast<uint64_t>(id));
  const Model& m = kModels[h % kModels.size()];
  return Vehicle{id,
                 id,
                 std::string(m.make),
                 std::string(m.model),
                 m.fuel_capacity,
                 std::string(kColors[(h >> 16) % kColors.size()]),
                 m.mpg};
}

Driver driver_for(int32_t id) {
  const uint64_t h = mix64(static_cast<uint64_t>(id) ^ 0xd1b54a32d192ed03ULL);
  // The id in the licence number keeps it unique, as the table requires.
  return Driver{id, fmt::format("{} {}", kFirst[h % kFirst.size()], kLast[(h >> 8) % kLast.size()]),
                fmt::format("{}-{:08}", kStates[(h >> 16) % kStates.size()], id)};
}

std::string vehicles_csv(const std::vector<Vehicle>& vehicles) {
  std::string out = "id,driver_id,make,model,fuel_capacity,color\n";
  for (const auto& v : vehicles)
    out += fmt::format("{},{},{},{},{},{}\n", v.id, v.driver_id, v.make, v.model, v.fuel_capacity, v.color);
  return out;
}

std::string drivers_csv(const std::vector<Driver>& drivers) {
  std::string out = "id,name,license_number\n";
  for (const auto& d : drivers) out += fmt::format("{},{},{}\n", d.id, d.name, d.license_number);
  return out;
}

}  // namespace fp::gen
