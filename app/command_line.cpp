// Command-line parsing. Hand-written: a handful of --name value flags do
// not justify Boost.ProgramOptions' build weight.
#include "app/command_line.hpp"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <string_view>

namespace roost::app {

namespace {

constexpr const char* usage =
    "usage: roost [options]\n"
    "  --bind ADDRESS         address to listen on (default 0.0.0.0)\n"
    "  --amqp-port PORT       AMQP port (default 5672; 0 picks a free port and prints it; -1: none)\n"
    "  --amqps-port PORT      AMQP over TLS (default 5671 once --tls-cert is given; 0 picks a free port)\n"
    "  --http-port PORT       admin HTTP API and dashboard port (default 15672; 0 picks a free port)\n"
    "  --https-port PORT      the admin API and dashboard over TLS (none unless given; 0 picks a free port)\n"
    "  --tls-cert FILE        PEM certificate (chain allowed) of the TLS listeners; SIGHUP reloads it\n"
    "  --tls-key FILE         its PEM private key, unencrypted (default: in the --tls-cert file)\n"
    "  --tls-ca FILE          PEM CA certificates client certificates are verified against\n"
    "  --tls-verify MODE      none, peer (check a certificate the client sends) or require (refuse\n"
    "                         clients without a valid one) (default none)\n"
    "  --http-static DIR      the dashboard's files (default: admin-ui/static of the source tree)\n"
    "  --data-dir DIR         where the SQLite store lives (default ./data)\n"
    "  --log-level LEVEL      debug, info, warning or error (default info)\n"
    "  --sync MODE            full, normal or off: how hard a commit syncs (default full)\n"
    "  --queue-window N       ready messages a queue keeps in memory before paging (default 100000)\n"
    "  --store-backlog-high N store operations awaiting commit before publishers pause (default 200000)\n"
    "  --disk-free-limit BYTES pause publishers while the data dir has less free space (default 50000000; 0 = off)\n"
    "  --memory-high-watermark W  pause publishers while resident memory is above W: a fraction of RAM\n"
    "                         (default 0.4) or a size (2GiB, 512MiB, 500MB, or bytes)\n"
    "  --max-connections N    AMQP connections open at once; more are refused at accept (default 0: no limit)\n"
    "  --handshake-timeout MS time from TCP accept to connection.open (default 10000)\n"
    "  --heartbeat SECONDS    heartbeat offered in connection.tune (default 60; 0 disables)\n"
    "  --frame-max BYTES      frame_max offered in connection.tune (default 131072)\n"
    "  --channel-max N        channel_max offered in connection.tune (default 2047)\n"
    "  --max-message-size N   largest accepted message body in bytes (default 134217728)\n"
    "  --default-user NAME    first user of a new data dir, administrator on / (default guest;\n"
    "                         environment ROOST_DEFAULT_USER)\n"
    "  --default-pass PASS    its password (default guest; environment ROOST_DEFAULT_PASS)\n"
    "  --loopback-users LIST  comma-separated users who may log in only from loopback (default guest;\n"
    "                         an empty LIST lets every user in from anywhere)\n"
    "  --load-definitions FILE  apply a RabbitMQ definitions file (users, vhosts, permissions, limits,\n"
    "                         topology) at every boot, before listening; a bad file stops the broker\n"
    "  --cluster-etcd URLS    join a cluster coordinated by etcd (http://HOST:PORT, comma-separated)\n"
    "  --cluster-name NAME    the cluster's name, the prefix of its keys in etcd (default roost)\n"
    "  --node-id ID           this node's name in the cluster (default: the host name)\n"
    "  --advertise HOST       where other nodes and clients reach this node (default: the host name)\n"
    "  --lease-ttl SECONDS    the leader lease: a leader that cannot renew it for this long steps down\n"
    "                         (default 5; etcd may raise it to its minimum)\n"
    "  --replication-port PORT  where the leader ships its store's batches to followers (default 25672)\n"
    "  --cluster-secret TEXT  shared by the cluster's nodes: followers prove they know it (environment\n"
    "                         ROOST_CLUSTER_SECRET; default: one kept in etcd, made by the first node)\n"
    "  --replication-tls on|off  the replication link through TLS: the leader presents --tls-cert,\n"
    "                         followers verify it against --tls-ca (default off)\n"
    "  --replica-lag-timeout MS  a follower this far behind leaves the in-sync replicas (default 2000)\n"
    "  --replication-retain BYTES  recent batches kept for followers a little behind; one further\n"
    "                         behind gets a snapshot of the store (default 67108864, 64 MiB)\n"
    "  --help, --version\n";

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string> parse_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    if (comma != 0) out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// RabbitMQ's RABBITMQ_DEFAULT_USER / _PASS, under Roost's names. Flags win.
void read_environment(config& cfg) {
  if (const char* user = std::getenv("ROOST_DEFAULT_USER"); user != nullptr && *user != '\0') cfg.default_user = user;
  if (const char* pass = std::getenv("ROOST_DEFAULT_PASS"); pass != nullptr) cfg.default_pass = pass;
}

// A listener's port; "-1" (no listener) only where `may_disable`.
bool parse_port(std::string_view text, std::optional<std::uint16_t>& out, bool may_disable) {
  if (may_disable && text == "-1") {
    out.reset();
    return true;
  }
  std::uint16_t port = 0;
  if (!parse_number(text, port)) return false;
  out = port;
  return true;
}

// What the flags say together; see parse_command_line.
std::optional<std::string> check_listeners(options& opts) {
  const net::tls_options& tls = opts.tls;
  if (!tls.enabled()) {
    if (opts.amqps_port) return std::string("--amqps-port needs --tls-cert");
    if (opts.https_port) return std::string("--https-port needs --tls-cert");
    if (!tls.key_file.empty() || !tls.ca_file.empty() || tls.verify != net::peer_verification::none)
      return std::string("--tls-key, --tls-ca and --tls-verify need --tls-cert");
    if (!opts.amqp_port) return std::string("--amqp-port -1 leaves no AMQP listener without --tls-cert");
    return std::nullopt;
  }
  if (tls.verify != net::peer_verification::none && tls.ca_file.empty())
    return std::string("--tls-verify needs --tls-ca (the CA client certificates are verified against)");
  if (!opts.amqps_port) opts.amqps_port = 5671;
  return std::nullopt;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// A name that is part of etcd keys and log lines: letters, digits, '-', '_' and '.'.
bool parse_cluster_name(std::string_view text, std::string& out) {
  if (text.empty() || text.size() > 64) return false;
  for (char ch : text)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') return false;
  out = text;
  return true;
}

bool parse_lease_ttl(std::string_view text, std::chrono::seconds& out) {
  std::int64_t seconds = 0;
  if (!parse_number(text, seconds) || seconds < 1 || seconds > 3600) return false;
  out = std::chrono::seconds(seconds);
  return true;
}

bool parse_lag_timeout(std::string_view text, std::chrono::milliseconds& out) {
  std::int64_t ms = 0;
  if (!parse_number(text, ms) || ms < 100 || ms > 3'600'000) return false;
  out = std::chrono::milliseconds(ms);
  return true;
}

bool parse_on_off(std::string_view text, bool& out) {
  if (text != "on" && text != "off") return false;
  out = text == "on";
  return true;
}

// Cluster flags need --cluster-etcd; the defaults come from the host name.
std::optional<std::string> check_cluster(options& opts, bool cluster_flag_seen) {
  cluster_options& c = opts.cluster;
  if (!c.enabled()) {
    if (cluster_flag_seen)
      return std::string("--cluster-name, --node-id, --advertise, --lease-ttl, --replication-port, "
                         "--cluster-secret, --replication-tls, --replica-lag-timeout and --replication-retain need "
                         "--cluster-etcd");
    return std::nullopt;
  }
  if (c.replication_tls && (!opts.tls.enabled() || opts.tls.ca_file.empty()))
    return std::string("--replication-tls needs --tls-cert and --tls-ca (the CA the leader's certificate is "
                       "verified against)");
  if (c.node_id.empty()) c.node_id = host_name();
  if (c.advertise.empty()) c.advertise = host_name();
  return std::nullopt;
}

bool parse_sync(std::string_view text, storage::sync_mode& out) {
  if (text == "full") out = storage::sync_mode::full;
  else if (text == "normal") out = storage::sync_mode::normal;
  else if (text == "off") out = storage::sync_mode::off;
  else return false;
  return true;
}

bool parse_watermark(std::string_view text, memory_watermark& out) {
  auto parsed = parse_memory_watermark(text);
  if (parsed) out = *parsed;
  return parsed.has_value();
}

}  // namespace

std::optional<std::string> parse_command_line(int argc, char** argv, options& opts, bool& exit_now) {
  config& cfg = opts.broker;
  read_environment(cfg);
  if (const char* secret = std::getenv("ROOST_CLUSTER_SECRET"); secret != nullptr) opts.cluster.secret = secret;
  exit_now = false;
  bool cluster_flag_seen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(usage, stdout);
      exit_now = true;
      return std::nullopt;
    }
    if (flag == "--version") {
      std::printf("roost %s\n", ROOST_VERSION);
      exit_now = true;
      return std::nullopt;
    }
    if (i + 1 >= argc) return "missing value for " + std::string(flag);
    std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--bind") opts.bind = value;
    else if (flag == "--amqp-port") ok = parse_port(value, opts.amqp_port, true);
    else if (flag == "--amqps-port") ok = parse_port(value, opts.amqps_port, false);
    else if (flag == "--http-port") ok = parse_number(value, opts.http_port);
    else if (flag == "--https-port") ok = parse_port(value, opts.https_port, false);
    else if (flag == "--tls-cert") ok = !(opts.tls.certificate_file = value).empty();
    else if (flag == "--tls-key") ok = !(opts.tls.key_file = value).empty();
    else if (flag == "--tls-ca") ok = !(opts.tls.ca_file = value).empty();
    else if (flag == "--tls-verify") ok = net::parse_peer_verification(value, opts.tls.verify);
    else if (flag == "--http-static") opts.http_static = value;
    else if (flag == "--data-dir") cfg.data_dir = value;
    else if (flag == "--log-level") ok = log::parse_level(value, opts.log_level);
    else if (flag == "--sync") ok = parse_sync(value, opts.sync);
    else if (flag == "--queue-window") ok = parse_number(value, cfg.queue_window) && cfg.queue_window >= 2;
    else if (flag == "--store-backlog-high") ok = parse_number(value, cfg.store_backlog_high) && cfg.store_backlog_high > 0;
    else if (flag == "--disk-free-limit") ok = parse_number(value, cfg.disk_free_limit);
    else if (flag == "--memory-high-watermark") ok = parse_watermark(value, cfg.memory_high_watermark);
    else if (flag == "--max-connections") ok = parse_number(value, cfg.max_connections);
    else if (flag == "--handshake-timeout")
      ok = parse_number(value, cfg.handshake_timeout_ms) && cfg.handshake_timeout_ms > 0;
    else if (flag == "--heartbeat") ok = parse_number(value, cfg.heartbeat_seconds);
    else if (flag == "--frame-max") ok = parse_number(value, cfg.frame_max) && cfg.frame_max >= 4096;
    else if (flag == "--channel-max") ok = parse_number(value, cfg.channel_max) && cfg.channel_max > 0;
    else if (flag == "--max-message-size") ok = parse_number(value, cfg.max_message_size);
    else if (flag == "--default-user") ok = !(cfg.default_user = value).empty();
    else if (flag == "--default-pass") cfg.default_pass = value;
    else if (flag == "--loopback-users") cfg.loopback_users = parse_list(value);
    else if (flag == "--load-definitions") ok = !(opts.load_definitions = value).empty();
    else if (flag == "--cluster-etcd") {
      if (auto error = cluster::parse_etcd_endpoints(value, opts.cluster.etcd)) return "--cluster-etcd: " + *error;
    } else if (flag == "--cluster-name" || flag == "--node-id" || flag == "--advertise" || flag == "--lease-ttl" ||
               flag == "--replication-port" || flag == "--cluster-secret" || flag == "--replica-lag-timeout" ||
               flag == "--replication-retain" || flag == "--replication-tls") {
      cluster_flag_seen = true;
      cluster_options& c = opts.cluster;
      if (flag == "--cluster-name") ok = parse_cluster_name(value, c.name);
      else if (flag == "--node-id") ok = parse_cluster_name(value, c.node_id);
      else if (flag == "--advertise") ok = !(c.advertise = value).empty();
      else if (flag == "--replication-port") ok = parse_number(value, c.replication_port);
      else if (flag == "--cluster-secret") ok = !(c.secret = value).empty();
      else if (flag == "--replica-lag-timeout") ok = parse_lag_timeout(value, c.replica_lag_timeout);
      else if (flag == "--replication-retain") ok = parse_number(value, c.replication_retain);
      else if (flag == "--replication-tls") ok = parse_on_off(value, c.replication_tls);
      else ok = parse_lease_ttl(value, c.lease_ttl);
    } else return "unknown option " + std::string(flag) + "\n" + usage;
    if (!ok) return "invalid value '" + std::string(value) + "' for " + std::string(flag);
  }
  if (auto error = check_listeners(opts)) return error;
  return check_cluster(opts, cluster_flag_seen);
}

}  // namespace roost::app
