// Flag and URI parsing for roost-perf.
//
// One table lists every flag with its help text and how it sets `options`,
// so --help, parsing and validation cannot drift apart. Hand-written like the
// broker's own parser: a few dozen flags do not justify a library.
#include "perf/options.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

namespace roost::perf {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// A non-negative integer that fits T.
template <class T>
bool parse_count(std::string_view text, T& out) {
  std::uint64_t v = 0;
  if (!parse_number(text, v) || v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
  out = static_cast<T>(v);
  return true;
}

bool parse_seconds(std::string_view text, double& out) {
  return parse_number(text, out) && std::isfinite(out) && out >= 0;
}

struct flag {
  std::string_view name;
  std::string_view value_name;  // empty: a switch without a value
  std::string_view help;
  bool (*apply)(options&, std::string_view value);
};

// clang-format off
constexpr flag flags[] = {
  {"--uri", "URI",
   "amqp://user:pass@host:port/vhost (default amqp://guest:guest@127.0.0.1:5672/%2F); amqps:// for TLS "
   "(port 5671 by default; the broker's certificate is not verified)",
   [](options& o, std::string_view v) { return !parse_uri(std::string(v), o.uri); }},
  {"--producers", "N", "publishing connections, one thread each (default 1)",
   [](options& o, std::string_view v) { return parse_count(v, o.producers); }},
  {"--consumers", "N", "consuming connections, one thread each (default 1)",
   [](options& o, std::string_view v) { return parse_count(v, o.consumers); }},
  {"--size", "BYTES", "message body size, >= 16 (default 16)",
   [](options& o, std::string_view v) { return parse_count(v, o.size) && o.size >= 16; }},
  {"--persistent", "", "publish with delivery_mode 2",
   [](options& o, std::string_view) { o.persistent = true; return true; }},
  {"--confirm", "WINDOW", "publisher confirms, at most WINDOW unconfirmed per producer (default 0 = off)",
   [](options& o, std::string_view v) { return parse_count(v, o.confirm); }},
  {"--prefetch", "N", "basic.qos prefetch_count per consumer (default 0 = unlimited)",
   [](options& o, std::string_view v) { return parse_count(v, o.prefetch); }},
  {"--autoack", "", "consume with no_ack (default: manual acks)",
   [](options& o, std::string_view) { o.autoack = true; return true; }},
  {"--multiple-ack", "K", "ack with multiple=true every K messages (default 1 = ack each)",
   [](options& o, std::string_view v) { return parse_count(v, o.multiple_ack) && o.multiple_ack >= 1; }},
  {"--exchange", "NAME", "exchange to publish to (default \"\", the default exchange)",
   [](options& o, std::string_view v) { o.exchange = v; return v.size() <= 255; }},
  {"--exchange-type", "TYPE", "direct, fanout or topic (default direct)",
   [](options& o, std::string_view v) { o.exchange_type = v; return v == "direct" || v == "fanout" || v == "topic"; }},
  {"--routing-key", "KEY", "routing and binding key (default: the queue name, or \"roost-perf\" with --exchange)",
   [](options& o, std::string_view v) { o.routing_key = std::string(v); return v.size() <= 255; }},
  {"--queue", "NAME", "queue name (default: a fresh name per run; with --queues N, NAME-1..NAME-N)",
   [](options& o, std::string_view v) { o.queue = std::string(v); return !v.empty() && v.size() <= 240; }},
  {"--queues", "N", "queues bound to --exchange, one consumer group each (default 1)",
   [](options& o, std::string_view v) { return parse_count(v, o.queues) && o.queues >= 1; }},
  {"--durable", "", "declare durable queues (and exchange)",
   [](options& o, std::string_view) { o.durable = true; return true; }},
  {"--queue-type", "TYPE", "declare the queues with x-queue-type TYPE, e.g. quorum (needs --durable)",
   [](options& o, std::string_view v) { o.queue_type = v; return !v.empty() && v.size() <= 255; }},
  {"--rate", "MSGS_PER_SEC", "publish rate per producer, paced (default 0 = unlimited)",
   [](options& o, std::string_view v) { return parse_seconds(v, o.rate); }},
  {"--duration", "SECONDS", "producers stop after this long (default 10 unless --pmessages)",
   [](options& o, std::string_view v) { return parse_seconds(v, o.duration); }},
  {"--drain", "SECONDS", "how long consumers may keep receiving after producers stop (default 10)",
   [](options& o, std::string_view v) { return parse_seconds(v, o.drain); }},
  {"--pmessages", "N", "stop after N messages per producer",
   [](options& o, std::string_view v) { return parse_count(v, o.pmessages); }},
  {"--no-consume", "", "publish only; queued messages are left in place",
   [](options& o, std::string_view) { o.no_consume = true; return true; }},
  {"--connections-only", "N", "open N idle connections (one channel each), hold them for --duration",
   [](options& o, std::string_view v) { return parse_count(v, o.connections_only) && o.connections_only > 0; }},
  {"--stream-offset", "OFFSET", "consume a stream from OFFSET: first, last, next or a number (x-stream-offset)",
   [](options& o, std::string_view v) { o.stream_offset = v; return !v.empty() && v.size() <= 64; }},
  {"--cmessages", "N", "each consumer stops after N messages (with --producers 0: replay what a queue holds)",
   [](options& o, std::string_view v) { return parse_count(v, o.cmessages) && o.cmessages > 0; }},
};
// clang-format on

void print_usage() {
  std::fputs("usage: roost-perf [options]   (an AMQP 0-9-1 load generator)\n", stdout);
  for (const flag& f : flags) {
    std::string left = std::string(f.name) + (f.value_name.empty() ? "" : " " + std::string(f.value_name));
    std::printf("  %-26s %.*s\n", left.c_str(), static_cast<int>(f.help.size()), f.help.data());
  }
}

// Cross-flag rules, and the defaults that depend on other flags.
std::optional<std::string> finish(options& o) {
  if (o.queues > 1 && o.exchange.empty()) {
    return "--queues N > 1 needs --exchange (the default exchange routes to one queue)";
  }
  if (o.connections_only > 0 && o.duration == 0 && o.pmessages > 0) return "--connections-only needs --duration";
  if (o.duration == 0 && o.pmessages == 0) o.duration = 10;
  if (!o.no_consume && o.consumers < o.queues && o.connections_only == 0) {
    std::fprintf(stderr, "roost-perf: raising --consumers to %d so every queue has a consumer\n", o.queues);
    o.consumers = o.queues;
  }
  if (o.producers < 1 && o.connections_only == 0 && o.cmessages == 0)
    return "--producers must be at least 1 (0 only with --cmessages)";
  if (o.producers == 0 && !o.queue) return "--producers 0 reads an existing queue: give its --queue";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_options(int argc, char** argv, options& out, bool& exit_now) {
  exit_now = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    if (name == "--help" || name == "-h") {
      print_usage();
      exit_now = true;
      return std::nullopt;
    }
    const flag* match = nullptr;
    for (const flag& f : flags) {
      if (f.name == name) match = &f;
    }
    if (!match) return "unknown flag " + std::string(name) + " (see --help)";
    std::string_view value;
    if (!match->value_name.empty()) {
      if (i + 1 >= argc) return "missing value for " + std::string(name);
      value = argv[++i];
    }
    if (!match->apply(out, value)) return "bad value for " + std::string(name) + ": '" + std::string(value) + "'";
  }
  return finish(out);
}

namespace {

std::optional<std::string> percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= in.size()) return "truncated %-escape in URI";
    auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (ec != std::errc() || end != in.data() + i + 3) return "bad %-escape in URI";
    out.push_back(static_cast<char>(v));
    i += 2;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_uri(const std::string& text, amqp_uri& out) {
  constexpr std::string_view plain = "amqp://";
  constexpr std::string_view tls = "amqps://";
  std::string_view rest = text;
  amqp_uri uri;
  if (rest.starts_with(tls)) {
    uri.tls = true;
    uri.port = 5671;
    rest.remove_prefix(tls.size());
  } else if (rest.starts_with(plain)) {
    rest.remove_prefix(plain.size());
  } else {
    return "URI must start with amqp:// or amqps://";
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  // No path, or an empty one, means the default vhost "/".
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    if (auto e = percent_decode(rest.substr(slash + 1), uri.vhost)) return e;
  }
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    std::size_t colon = userinfo.find(':');
    if (auto e = percent_decode(userinfo.substr(0, colon), uri.user)) return e;
    uri.password.clear();
    if (colon != std::string_view::npos) {
      if (auto e = percent_decode(userinfo.substr(colon + 1), uri.password)) return e;
    }
  }
  if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos && authority.back() != ']') {
    if (!parse_number(authority.substr(colon + 1), uri.port)) return "bad port in URI";
    authority = authority.substr(0, colon);
  }
  if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']') {
    authority = authority.substr(1, authority.size() - 2);  // [::1]
  }
  if (!authority.empty()) uri.host = authority;
  out = uri;
  return std::nullopt;
}

}  // namespace roost::perf
