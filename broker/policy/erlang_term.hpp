// Field values printed the way RabbitMQ's error texts print Erlang terms
// (io_lib's ~p), so that a policy refused by Roost reads like one refused by
// RabbitMQ: a JSON string is a binary (<<"abc">>), null is the atom null, an
// object is a map (#{<<"a">> => 1}), a float is Erlang's shortest form
// (1.5, 100.0, 1.0e3, 1.0e20).
//
// Line breaking follows io_lib_pretty only as far as RabbitMQ's policy texts
// need it (80 columns; a list of tuples one per line, a tuple broken after
// its first element, a list of numbers filled); deeper nesting may break
// differently. Pure code.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "amqp/field_table.hpp"

namespace roost::erlang {

// One line, no breaks.
std::string flat(const amqp::field_value& v);
// A double in Erlang's shortest round-trip form.
std::string format_float(double d);

// A term as ~p prints it when it starts at column `column`.
struct term;
using term_list = std::vector<term>;
struct term {
  enum class kind { text, list, tuple } what = kind::text;
  std::string text;  // kind::text: printed as is
  term_list items;   // kind::list, kind::tuple
};
term of(const amqp::field_value& v);
term tuple(term_list items);
term list(term_list items);
term text(std::string s);
std::string pretty(const term& t, std::size_t column);

// RabbitMQ's management API escapes these in error reasons of some endpoints.
std::string escape_html(std::string_view s);

}  // namespace roost::erlang
