// The doctest runner shared by every unit test file. Broker logging is
// turned down to errors so test output shows only test results.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "broker/common/log.hpp"

int main(int argc, char** argv) {
  roost::log::set_level(roost::log::level::error);
  doctest::Context context(argc, argv);
  return context.run();
}
