// ParseObject: the JSON object a command printed with --json, for end-to-end tests. A test
// failure (not a crash) when the output is not one JSON object.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace warden::testing {

inline boost::json::object ParseObject(const std::string& text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.as_object() : boost::json::object{};
}

}  // namespace warden::testing
