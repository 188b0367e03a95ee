// The roost program's command line (app/command_line.cpp): the listener
// and TLS flags, and the combinations it refuses before anything starts.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "app/command_line.hpp"

using namespace roost;

namespace {

struct parsed {
  app::options opts;
  std::optional<std::string> error;
};

parsed parse(std::initializer_list<const char*> flags) {
  std::vector<std::string> storage{"roost"};
  storage.insert(storage.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  parsed out;
  bool exit_now = false;
  out.error = app::parse_command_line(static_cast<int>(argv.size()), argv.data(), out.opts, exit_now);
  return out;
}

}  // namespace

TEST_CASE("without TLS flags: plain AMQP on 5672, no TLS listeners") {
  parsed p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK(p.opts.amqp_port == std::optional<std::uint16_t>(5672));
  CHECK_FALSE(p.opts.amqps_port);
  CHECK_FALSE(p.opts.https_port);
  CHECK_FALSE(p.opts.tls.enabled());
}

TEST_CASE("a certificate brings AMQPS on 5671; the key defaults to the certificate's file") {
  parsed p = parse({"--tls-cert", "server.pem"});
  REQUIRE_FALSE(p.error);
  CHECK(p.opts.amqps_port == std::optional<std::uint16_t>(5671));
  CHECK(p.opts.amqp_port == std::optional<std::uint16_t>(5672));
  CHECK(p.opts.tls.certificate_file == "server.pem");
  CHECK(p.opts.tls.key_file.empty());
  CHECK(p.opts.tls.verify == net::peer_verification::none);
  CHECK_FALSE(p.opts.https_port);
}

TEST_CASE("every TLS flag, ports 0 and -1") {
  parsed p = parse({"--amqp-port", "-1", "--amqps-port", "0", "--https-port", "0", "--tls-cert", "c.pem", "--tls-key",
                    "k.pem", "--tls-ca", "ca.pem", "--tls-verify", "require"});
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.opts.amqp_port);
  CHECK(p.opts.amqps_port == std::optional<std::uint16_t>(0));
  CHECK(p.opts.https_port == std::optional<std::uint16_t>(0));
  CHECK(p.opts.tls.key_file == "k.pem");
  CHECK(p.opts.tls.ca_file == "ca.pem");
  CHECK(p.opts.tls.verify == net::peer_verification::require);
  CHECK(parse({"--tls-cert", "c.pem", "--tls-ca", "ca.pem", "--tls-verify", "peer"}).opts.tls.verify ==
        net::peer_verification::peer);
}

TEST_CASE("TLS flags that cannot work are refused with the reason") {
  CHECK(parse({"--amqps-port", "5671"}).error == "--amqps-port needs --tls-cert");
  CHECK(parse({"--https-port", "15671"}).error == "--https-port needs --tls-cert");
  CHECK(parse({"--tls-ca", "ca.pem"}).error == "--tls-key, --tls-ca and --tls-verify need --tls-cert");
  CHECK(parse({"--amqp-port", "-1"}).error == "--amqp-port -1 leaves no AMQP listener without --tls-cert");
  CHECK(parse({"--tls-cert", "c.pem", "--tls-verify", "require"}).error ==
        "--tls-verify needs --tls-ca (the CA client certificates are verified against)");
  CHECK(parse({"--tls-cert", "c.pem", "--tls-verify", "always"}).error == "invalid value 'always' for --tls-verify");
  CHECK(parse({"--tls-cert", "c.pem", "--amqps-port", "-1"}).error == "invalid value '-1' for --amqps-port");
  CHECK(parse({"--amqp-port", "-2"}).error == "invalid value '-2' for --amqp-port");
  CHECK(parse({"--tls-cert", ""}).error == "invalid value '' for --tls-cert");
}

TEST_CASE("without --cluster-etcd: a single node") {
  parsed p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.opts.cluster.enabled());
}

TEST_CASE("cluster flags: etcd endpoints, name, node id, address, lease, replication") {
  parsed p = parse({"--cluster-etcd", "http://10.0.0.1:2379,10.0.0.2:2379", "--cluster-name", "prod-1", "--node-id",
                    "n2", "--advertise", "10.0.0.7", "--lease-ttl", "3", "--cluster-secret", "s3cret",
                    "--replication-port", "0", "--replica-lag-timeout", "500", "--replication-retain", "4096"});
  REQUIRE_FALSE(p.error);
  REQUIRE(p.opts.cluster.enabled());
  CHECK(p.opts.cluster.etcd.size() == 2);
  CHECK(p.opts.cluster.name == "prod-1");
  CHECK(p.opts.cluster.node_id == "n2");
  CHECK(p.opts.cluster.advertise == "10.0.0.7");
  CHECK(p.opts.cluster.lease_ttl == std::chrono::seconds(3));
  CHECK(p.opts.cluster.secret == "s3cret");
  CHECK(p.opts.cluster.replication_port == 0);
  CHECK(p.opts.cluster.replica_lag_timeout == std::chrono::milliseconds(500));
  CHECK(p.opts.cluster.replication_retain == 4096);
  parsed defaults = parse({"--cluster-etcd", "http://127.0.0.1:2379", "--cluster-secret", "s"});
  REQUIRE_FALSE(defaults.error);
  CHECK(defaults.opts.cluster.name == "roost");
  CHECK(defaults.opts.cluster.lease_ttl == std::chrono::seconds(5));
  CHECK_FALSE(defaults.opts.cluster.node_id.empty());  // the host name
  CHECK(defaults.opts.cluster.advertise == defaults.opts.cluster.node_id);
  CHECK(defaults.opts.cluster.replication_port == 25672);
  CHECK(defaults.opts.cluster.replica_lag_timeout == std::chrono::milliseconds(2000));
  CHECK(defaults.opts.cluster.replication_retain == 64u << 20);
}

TEST_CASE("cluster flags that cannot work are refused with the reason") {
  CHECK(parse({"--node-id", "n1"}).error->ends_with("need --cluster-etcd"));
  CHECK_FALSE(parse({"--cluster-etcd", "h:1"}).error);  // the secret then comes from etcd
  CHECK(parse({"--cluster-etcd", "h:1"}).opts.cluster.secret.empty());
  CHECK(parse({"--cluster-etcd", "https://h:2379"}).error->starts_with("--cluster-etcd: etcd endpoint 'https://h:2379'"));
  for (const char* bad : {"a/b", "", "x y", "n\xc3\xa9"})
    CHECK(parse({"--cluster-etcd", "h:1", "--cluster-secret", "s", "--node-id", bad}).error == "invalid value '" + std::string(bad) + "' for --node-id");
  for (const char* bad : {"0", "-1", "3601", "5s"})
    CHECK(parse({"--cluster-etcd", "h:1", "--cluster-secret", "s", "--lease-ttl", bad}).error == "invalid value '" + std::string(bad) + "' for --lease-ttl");
}

TEST_CASE("--replication-tls needs the certificate to present and the CA to verify it with") {
  CHECK_FALSE(parse({"--cluster-etcd", "h:1"}).opts.cluster.replication_tls);
  parsed on = parse({"--cluster-etcd", "h:1", "--replication-tls", "on", "--tls-cert", "c.pem", "--tls-ca", "ca.pem"});
  REQUIRE_FALSE(on.error);
  CHECK(on.opts.cluster.replication_tls);
  const std::string needs = "--replication-tls needs --tls-cert and --tls-ca (the CA the leader's certificate is verified against)";
  CHECK(parse({"--cluster-etcd", "h:1", "--replication-tls", "on"}).error == needs);
  CHECK(parse({"--cluster-etcd", "h:1", "--replication-tls", "on", "--tls-cert", "c.pem"}).error == needs);
  CHECK_FALSE(parse({"--cluster-etcd", "h:1", "--replication-tls", "off"}).error);
  CHECK(parse({"--cluster-etcd", "h:1", "--replication-tls", "yes"}).error == "invalid value 'yes' for --replication-tls");
  CHECK(parse({"--replication-tls", "on"}).error->ends_with("need --cluster-etcd"));
}
