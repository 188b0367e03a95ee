// Leadership events to serving and stepping down; see cluster_member.hpp.
#include "app/cluster_member.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "broker/common/log.hpp"
#include "cluster/etcd_messages.hpp"
#include "cluster/isr_record.hpp"
#include "storage/snapshot.hpp"
#include "storage/sqlite_store.hpp"

namespace roost::app {

namespace {

using namespace std::chrono_literals;

// How long a deposed leader waits for its clients to take their
// connection.close before it drops them and starts again.
constexpr auto step_down_grace = 1s;

// This node's registration: how other nodes, tools and tests reach it.
std::string registration(const options& opts, std::uint16_t replication_port) {
  const cluster_options& c = opts.cluster;
  nlohmann::json node{{"id", c.node_id},
                      {"host", c.advertise},
                      {"http", opts.http_port},
                      {"replication", replication_port},
                      {"version", ROOST_VERSION}};
  if (opts.amqp_port) node["amqp"] = *opts.amqp_port;
  if (opts.amqps_port) node["amqps"] = *opts.amqps_port;
  return node.dump();
}

// etcd answers within milliseconds; a request still open after a third of
// the lease is one the lease cannot wait for.
std::chrono::milliseconds etcd_timeout(std::chrono::seconds ttl) {
  return std::max<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(ttl) / 3, 200ms);
}

}  // namespace

cluster_member::cluster_member(const options& opts, boost::asio::io_context& io, net::tls_server_credentials* tls)
    : opts_(opts),
      io_(io),
      tls_(tls),
      etcd_(io, opts.cluster.etcd, etcd_timeout(opts.cluster.lease_ttl)),
      replication_acceptor_(io),
      secret_(opts.cluster.secret),
      status_{opts.cluster.name, opts.cluster.node_id, "follower", 0, {}},
      drain_timer_(io) {}

cluster_member::~cluster_member() {
  follower_.reset();
  if (follower_store_) follower_store_->close();
}

bool cluster_member::start() {
  const cluster_options& c = opts_.cluster;
  try {
    boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address(opts_.bind), c.replication_port);
    replication_acceptor_.open(at.protocol());
    replication_acceptor_.set_option(boost::asio::ip::tcp::acceptor::reuse_address(true));
    replication_acceptor_.bind(at);
    replication_acceptor_.listen();
    replication_port_ = replication_acceptor_.local_endpoint().port();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roost: cannot listen for replication on %s:%u: %s\n", opts_.bind.c_str(),
                 c.replication_port, e.what());
    return false;
  }
  if (c.replication_tls) {
    try {
      net::tls_options presented = opts_.tls;
      presented.verify = net::peer_verification::none;  // followers prove the secret instead
      link_server_tls_ = net::make_server_context(presented);
      link_client_tls_ = net::make_client_context(opts_.tls.ca_file);
    } catch (const net::tls_setup_error& e) {
      std::fprintf(stderr, "roost: --replication-tls: %s\n", e.what());
      return false;
    }
  }
  std::printf("listening replication %s %u\n", opts_.bind.c_str(), replication_port_);
  std::fflush(stdout);
  if (!secret_.empty()) return join();
  boost::asio::co_spawn(io_, secret_from_etcd(), [this](std::exception_ptr failed, std::string secret) {
    if (failed) return;  // the io_context is going away
    secret_ = std::move(secret);
    if (!join()) {
      exit_code_ = 1;
      io_.stop();
    }
  });
  return true;
}

// Without --cluster-secret the cluster's secret lives in etcd, beside the
// leader key: the first node to start puts a random one there, the others
// read it. etcd's own access control (client certificates, users) then
// guards it.
boost::asio::awaitable<std::string> cluster_member::secret_from_etcd() {
  std::string key = "/roost/" + opts_.cluster.name + "/secret";
  std::string proposed = replication::random_text_secret();
  bool warned = false;
  for (;;) {
    std::string request = cluster::etcd::create_if_absent_body(key, proposed, 0);
    cluster::etcd_answer answer = co_await etcd_.call(cluster::etcd::txn_path, std::move(request));
    std::string why = answer.failure ? *answer.failure : std::string();
    if (!answer.failure) {
      try {
        cluster::etcd::txn_result result = cluster::etcd::parse_txn(answer.body);
        if (result.succeeded) {
          log::info("cluster " + opts_.cluster.name + ": no --cluster-secret; made one and keeps it in etcd at " + key);
          co_return proposed;
        }
        if (!result.range.empty() && !result.range.front().value.empty()) {
          log::info("cluster " + opts_.cluster.name + ": no --cluster-secret; using the one etcd keeps at " + key);
          co_return result.range.front().value;
        }
        why = "etcd holds an empty secret at " + key;
      } catch (const cluster::etcd::bad_answer& e) {
        why = e.what();
      }
    }
    if (!warned) log::warning("cluster " + opts_.cluster.name + ": cannot read the cluster secret from etcd (" + why +
                              "); retrying");
    warned = true;
    boost::asio::steady_timer pause(io_, std::chrono::milliseconds(500));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
}

// With the secret known: the store, the client ports, the campaign.
bool cluster_member::join() {
  const cluster_options& c = opts_.cluster;
  std::uint64_t position = 0;
  if (!follow_from_store(position) || !forward_clients()) return false;
  leadership_.emplace(etcd_, cluster::leadership_options{c.name, c.node_id, registration(opts_, replication_port_), c.lease_ttl},
                      cluster::leadership_events{[this](std::int64_t epoch) { elected(epoch); },
                                                 [this](const std::string& leader) { following(leader); },
                                                 [this](const std::string& reason) { deposed(reason); },
                                                 [](const std::string& text) { log::warning(text); }});
  log::info("cluster " + c.name + ": node " + c.node_id + " joining through etcd at " + etcd_.current_endpoint() +
            ", store at batch " + std::to_string(position));
  leadership_->start();
  return true;
}

// Until elected, the store only takes the leader's batches.
bool cluster_member::follow_from_store(std::uint64_t& position) {
  const cluster_options& c = opts_.cluster;
  auto post = [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); };
  std::string error;
  follower_store_ = storage::open_sqlite_store({opts_.broker.data_dir, "roost.db", opts_.sync, false}, post, error);
  if (!follower_store_) {
    std::fprintf(stderr, "roost: %s\n", error.c_str());
    return false;
  }
  storage::recovered_state recovered = follower_store_->recover();
  position = recovered.position.seq;
  replication::follower_link_options options{c.node_id, secret_, [](const std::string& text) { log::info(text); },
                                             snapshot_path(),
                                             [this](storage::batch_position) {
                                               boost::asio::post(io_, [this] { install_snapshot(); });
                                             },
                                             link_client_tls_.get()};
  follower_ = std::make_unique<replication::follower_link>(io_, std::move(options), *follower_store_,
                                                           recovered.position,
                                                           replication::batch_log(c.replication_retain));
  if (!leader_host_.empty()) follower_->follow(leader_host_, leader_port_);
  return true;
}

// The client ports, bound while following; "forwarding ..." lines say
// where ("listening ..." says that a node serves).
bool cluster_member::forward_clients() {
  const cluster_options& c = opts_.cluster;
  proxy_ = std::make_unique<replication::client_proxy>(
      io_, replication::client_proxy_options{c.node_id, secret_, [](const std::string& text) { log::warning(text); }});
  std::vector<std::pair<std::string, std::uint16_t>> ports;
  if (opts_.amqp_port) ports.emplace_back("amqp", *opts_.amqp_port);
  if (tls_ != nullptr) ports.emplace_back("amqps", *opts_.amqps_port);
  ports.emplace_back("http", opts_.http_port);
  if (tls_ != nullptr && opts_.https_port) ports.emplace_back("https", *opts_.https_port);
  for (const auto& [listener, port] : ports) {
    try {
      std::uint16_t bound = proxy_->listen(listener, opts_.bind, port);
      std::printf("forwarding %s %s %u\n", listener.c_str(), opts_.bind.c_str(), bound);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "roost: cannot listen for %s on %s:%u: %s\n", listener.c_str(), opts_.bind.c_str(), port,
                   e.what());
      return false;
    }
  }
  std::fflush(stdout);
  if (!leader_host_.empty()) proxy_->set_leader(leader_host_, leader_port_);
  return true;
}

std::string cluster_member::snapshot_path() const { return opts_.broker.data_dir + "/roost.db.snapshot"; }

// The follower's store is replaced by the leader's snapshot; it then
// follows again from the snapshot's position.
void cluster_member::install_snapshot() {
  if (node_) return;  // elected meanwhile: this node's store is what it serves
  follower_.reset();
  follower_store_->close();
  follower_store_.reset();
  if (auto error = storage::install_snapshot(opts_.broker.data_dir, "roost.db", snapshot_path()))
    log::error("replication: " + *error);
  std::uint64_t position = 0;
  if (!follow_from_store(position)) {
    exit_code_ = 1;
    io_.stop();
    return;
  }
  log::info("replication: the store is the leader's snapshot, at batch " + std::to_string(position));
}

void cluster_member::resign() {
  if (!leadership_) {  // still waiting for etcd: nothing to hand over
    resigned_ = true;
    return;
  }
  log::info("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " leaves the cluster");
  leadership_->resign([this] { resigned_ = true; });
}

void cluster_member::following(const std::string& leader) {
  log::info("following the leader " + leader);
  nlohmann::json node = nlohmann::json::parse(leader, nullptr, false);
  auto host = node.is_object() ? node.find("host") : node.end();
  auto port = node.is_object() ? node.find("replication") : node.end();
  if (host == node.end() || !host->is_string() || port == node.end() || !port->is_number_unsigned()) {
    log::warning("the leader's registration has no replication address; not replicating");
    return;
  }
  leader_host_ = host->get<std::string>();
  leader_port_ = port->get<std::uint16_t>();
  if (follower_) follower_->follow(leader_host_, leader_port_);
  if (proxy_) proxy_->set_leader(leader_host_, leader_port_);
}

void cluster_member::elected(std::int64_t epoch) {
  status_.role = "leader";
  status_.epoch = epoch;
  log::info("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " is the leader, epoch " +
            std::to_string(epoch));
  // What the follower received is committed (close drains the writer);
  // serving_node opens the same files again.
  retained_ = follower_->take_retained();
  follower_.reset();
  proxy_.reset();  // its ports are the serving node's now
  follower_store_->close();
  follower_store_.reset();
  node_ = serving_node::start(opts_, io_, tls_, &status_,
                              [this, epoch](storage::store& durable, const storage::recovered_state& recovered) {
                                lead(epoch, durable, recovered);
                              });
  if (!node_) {
    // The store cannot be served (damaged, unwritable): this node must not
    // lead. Exiting lets the lease run out, so another node takes over.
    exit_code_ = 1;
    io_.stop();
    return;
  }
  node_->broker().set_confirm_gate(
      [this] { return std::chrono::steady_clock::now() < leadership_->lease_valid_until(); });
}

void cluster_member::lead(std::int64_t epoch, storage::store& durable, const storage::recovered_state& recovered) {
  auto e = static_cast<std::uint64_t>(epoch);
  replication::leader_history history{recovered.epoch_starts, recovered.position.seq};
  history.epoch_starts.push_back({e, recovered.position.seq + 1});
  const cluster_options& c = opts_.cluster;
  leader_link_ = std::make_unique<replication::leader_link>(
      io_, std::move(replication_acceptor_),
      replication::leader_link_options{c.node_id, secret_, c.replica_lag_timeout,
                                       opts_.broker.data_dir + "/roost.db", opts_.broker.data_dir,
                                       link_server_tls_.get()},
      replication::leader_link_events{
          [this](const std::vector<std::string>& members, std::function<void(bool)> done) {
            write_isr(members, std::move(done));
          },
          [](const std::string& text) { log::info(text); },
          [this](boost::asio::ip::tcp::socket client, const replication::forward& from) {
            // Before the node is up (it is being restored), the client retries.
            if (node_) node_->adopt(std::move(client), from.listener, net::peer_at(from.client_address, from.client_port));
          }},
      std::move(history), std::move(retained_));
  // The durable store is always a sqlite_store; only it can ship batches.
  auto& store = dynamic_cast<storage::sqlite_store&>(durable);
  store.ship_batches(e, recovered.position.seq, [this](storage::shipped_batch batch) {
    boost::asio::post(io_, [this, batch = std::move(batch)]() mutable {
      if (leader_link_) leader_link_->add(std::move(batch));
    });
  });
  // Before the broker is restored: what restoring writes waits for the list too.
  leader_link_->start();
  status_.replication = [this] {
    const replication::in_sync_replicas& isr = leader_link_->replicas();
    admin::replication_status r{isr.last_shipped(), isr.members(), {}};
    for (const auto& [id, f] : isr.followers()) r.followers.push_back({id, f.acked, f.connected});
    return r;
  };
}

void cluster_member::write_isr(const std::vector<std::string>& members, std::function<void(bool)> done) {
  std::string value = cluster::encode_isr({leadership_->epoch(), members});
  std::string request =
      cluster::etcd::put_if_held_body(leadership_->isr_key(), value, leadership_->leader_key(), leadership_->epoch());
  boost::asio::co_spawn(io_, put_if_leading(std::move(request)),
                        [done = std::move(done)](std::exception_ptr failed, bool written) { done(!failed && written); });
}

// A member function, not a lambda: the coroutine's frame owns the request.
boost::asio::awaitable<bool> cluster_member::put_if_leading(std::string request) {
  cluster::etcd_answer answer = co_await etcd_.call(cluster::etcd::txn_path, std::move(request));
  bool written = false;
  if (!answer.failure) {
    try {
      written = cluster::etcd::parse_txn(answer.body).succeeded;
    } catch (const cluster::etcd::bad_answer&) {
    }
  }
  co_return written;
}

void cluster_member::deposed(const std::string& reason) {
  log::warning("cluster " + opts_.cluster.name + ": node " + opts_.cluster.node_id + " steps down: " + reason);
  std::printf("stepping down: %s\n", reason.c_str());
  std::fflush(stdout);
  restart_ = true;
  if (!node_) {
    io_.stop();
    return;
  }
  node_->stop("leader lease lost");
  stop_when_drained(std::chrono::steady_clock::now() + step_down_grace);
}

void cluster_member::stop_when_drained(std::chrono::steady_clock::time_point deadline) {
  if (node_->drained() || std::chrono::steady_clock::now() >= deadline) {
    io_.stop();
    return;
  }
  drain_timer_.expires_after(20ms);
  drain_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
    if (!ec) stop_when_drained(deadline);
  });
}

}  // namespace roost::app
