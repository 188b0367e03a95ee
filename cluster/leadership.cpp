// The lease loop as one coroutine; the deposal as a timer beside it.
#include "cluster/leadership.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

#include "cluster/etcd_messages.hpp"
#include "cluster/isr_record.hpp"

namespace roost::cluster {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

leadership::leadership(etcd_client& etcd, leadership_options options, leadership_events events)
    : etcd_(etcd),
      options_(std::move(options)),
      events_(std::move(events)),
      leader_key_("/roost/" + options_.cluster + "/leader"),
      nodes_prefix_("/roost/" + options_.cluster + "/nodes/"),
      isr_key_("/roost/" + options_.cluster + "/isr"),
      deposal_(etcd.context()),
      alive_(std::make_shared<bool>(true)) {}

leadership::~leadership() { *alive_ = false; }

void leadership::start() { asio::co_spawn(etcd_.context(), run(alive_), asio::detached); }

void leadership::resign(std::function<void()> done) {
  deposed_ = true;  // the lease loop ends at its next step
  epoch_ = 0;
  valid_until_ = clock::now();
  deposal_.cancel();
  if (lease_ == 0) {
    done();
    return;
  }
  asio::co_spawn(etcd_.context(), revoke(std::exchange(lease_, 0)),
                 [done = std::move(done)](std::exception_ptr) { done(); });
}

asio::awaitable<void> leadership::revoke(std::int64_t lease) {
  std::string request = etcd::lease_revoke_body(lease);
  etcd_answer answer = co_await etcd_.call(etcd::lease_revoke_path, std::move(request));
  if (answer.failure) warn("could not revoke the etcd lease (it runs out on its own): " + *answer.failure);
}

void leadership::warn(const std::string& text) {
  if (events_.warning) events_.warning(text);
}

// While etcd is down every tick fails: the first failure is logged, the
// rest only counted, and the recovery says how many there were.
void leadership::etcd_failed(const std::string& text) {
  if (failures_++ == 0) warn(text + "; retrying every " + std::to_string(tick().count()) + " ms");
}

void leadership::etcd_answered() {
  if (failures_ > 1) warn("etcd answers again after " + std::to_string(failures_) + " failed requests");
  failures_ = 0;
}

std::chrono::milliseconds leadership::tick() const {
  return std::max<std::chrono::milliseconds>(options_.lease_ttl / 3, std::chrono::milliseconds(100));
}

asio::awaitable<void> leadership::pause(clock::duration how_long) {
  asio::steady_timer timer(etcd_.context(), how_long);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> leadership::run(std::shared_ptr<bool> alive) {
  while (*alive && !deposed_) {
    clock::time_point sent = clock::now();
    std::string grant_request = etcd::lease_grant_body(options_.lease_ttl.count());
    etcd_answer granted = co_await etcd_.call(etcd::lease_grant_path, std::move(grant_request));
    if (!*alive) co_return;
    bool have_lease = false;
    try {
      if (granted.failure) throw etcd::bad_answer(*granted.failure);
      etcd::lease_grant grant = etcd::parse_lease_grant(granted.body);
      lease_ = grant.id;
      granted_ttl_ = std::chrono::seconds(grant.ttl_seconds);
      valid_until_ = sent + granted_ttl_;
      have_lease = true;
      etcd_answered();
    } catch (const etcd::bad_answer& e) {
      etcd_failed(std::string("cannot get a lease from etcd: ") + e.what());
    }
    if (!have_lease) {
      co_await pause(tick());
      continue;
    }
    std::string registration = etcd::put_body(nodes_prefix_ + options_.node_id, options_.registration, lease_);
    etcd_answer registered = co_await etcd_.call(etcd::put_path, std::move(registration));
    if (!*alive) co_return;
    if (registered.failure) etcd_failed("cannot register with etcd: " + *registered.failure);
    while (*alive && !deposed_ && clock::now() < valid_until_) {
      if (!leading()) co_await campaign();
      if (!*alive || deposed_) co_return;
      co_await pause(tick());
      if (!*alive || deposed_) co_return;
      if (!co_await renew()) break;
    }
    if (!*alive || deposed_) co_return;
    if (leading()) depose("the leader lease was lost");
    else warn("etcd lease lost; registering again");
  }
}

asio::awaitable<bool> leadership::renew() {
  clock::time_point sent = clock::now();
  std::string keepalive = etcd::lease_keepalive_body(lease_);
  etcd_answer answer = co_await etcd_.call(etcd::lease_keepalive_path, std::move(keepalive));
  try {
    if (answer.failure) throw etcd::bad_answer(*answer.failure);
    std::int64_t ttl = etcd::parse_keepalive(answer.body);
    if (ttl == 0) co_return false;  // etcd no longer knows the lease
    valid_until_ = sent + std::chrono::seconds(ttl);
    if (leading()) arm_deposal();
    etcd_answered();
  } catch (const etcd::bad_answer& e) {
    // Not renewed this time; the lease may still be valid until valid_until_.
    etcd_failed(std::string("cannot renew the etcd lease: ") + e.what());
  }
  co_return true;
}

asio::awaitable<std::optional<std::int64_t>> leadership::isr_admits_me() {
  std::string request = etcd::range_body(isr_key_);
  etcd_answer answer = co_await etcd_.call(etcd::range_path, std::move(request));
  if (answer.failure) throw etcd::bad_answer(*answer.failure);
  std::vector<etcd::key_value> isr = etcd::parse_range(answer.body);
  std::optional<std::int64_t> unwritten = 0;  // no leader has written one yet: any node may lead
  if (isr.empty()) co_return unwritten;
  std::optional<isr_record> record = parse_isr(isr.front().value);
  if (!record) throw etcd::bad_answer("the in-sync replica list is not one Roost wrote");
  if (!record->lists(options_.node_id)) co_return std::nullopt;
  co_return isr.front().mod_revision;
}

asio::awaitable<void> leadership::campaign() {
  try {
    // Only a node the in-sync replica list names holds every confirmed
    // batch; the election succeeds only if the list is still the one read.
    std::optional<std::int64_t> isr_revision = co_await isr_admits_me();
    if (deposed_) co_return;
    bool eligible = isr_revision.has_value();
    std::string request = eligible ? etcd::create_if_absent_unless_changed_body(leader_key_, options_.registration,
                                                                               lease_, isr_key_, *isr_revision)
                                   : etcd::range_body(leader_key_);
    etcd_answer answer = co_await etcd_.call(eligible ? etcd::txn_path : etcd::range_path, std::move(request));
    if (deposed_) co_return;
    if (answer.failure) throw etcd::bad_answer(*answer.failure);
    etcd_answered();
    std::vector<etcd::key_value> current;
    if (eligible) {
      etcd::txn_result result = etcd::parse_txn(answer.body);
      if (result.succeeded) {
        won(result.revision);
        co_return;
      }
      current = std::move(result.range);
    } else {
      current = etcd::parse_range(answer.body);
    }
    if (current.empty()) co_return;  // nobody leads; the next attempt may win
    // Our own lease on the key: an earlier attempt won but its answer was lost.
    if (current.front().lease == lease_ && eligible) {
      won(current.front().create_revision);
      co_return;
    }
    if (current.front().value != known_leader_) {
      known_leader_ = current.front().value;
      if (events_.following) events_.following(known_leader_);
    }
  } catch (const etcd::bad_answer& e) {
    etcd_failed(std::string("election attempt failed: ") + e.what());
  }
}

void leadership::won(std::int64_t epoch) {
  epoch_ = epoch;
  known_leader_ = options_.registration;
  arm_deposal();
  if (events_.elected) events_.elected(epoch_);
}

void leadership::arm_deposal() {
  deposal_.expires_at(valid_until_);
  deposal_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || deposed_) return;
    if (clock::now() >= valid_until_) depose("the leader lease ran out before etcd renewed it");
  });
}

void leadership::depose(const std::string& reason) {
  if (deposed_) return;
  deposed_ = true;
  epoch_ = 0;
  deposal_.cancel();
  if (events_.deposed) events_.deposed(reason);
}

}  // namespace roost::cluster
