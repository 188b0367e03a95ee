#include "cluster/isr_record.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace roost::cluster {

bool isr_record::lists(std::string_view node_id) const {
  return std::find(members.begin(), members.end(), node_id) != members.end();
}

std::string encode_isr(const isr_record& isr) {
  return nlohmann::json{{"epoch", isr.epoch}, {"members", isr.members}}.dump();
}

std::optional<isr_record> parse_isr(std::string_view value) {
  nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  auto epoch = parsed.find("epoch");
  auto members = parsed.find("members");
  if (epoch == parsed.end() || !epoch->is_number_integer() || members == parsed.end() || !members->is_array())
    return std::nullopt;
  isr_record isr{epoch->get<std::int64_t>(), {}};
  for (const auto& m : *members) {
    if (!m.is_string()) return std::nullopt;
    isr.members.push_back(m.get<std::string>());
  }
  return isr;
}

}  // namespace roost::cluster
