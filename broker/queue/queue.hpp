// A queue: ready messages in order, the consumers attached to it, and the
// round-robin dispatch between them; and, when durable, the queue's entries
// in the store.
//
// Lives on the broker thread and is changed only through its own methods.
// Unacknowledged deliveries are tracked by the channels that hold them, not
// here; they come back through requeue(), which puts each message back at its
// original position (by sequence number), as RabbitMQ does, or go away
// through settle().
//
// Memory stays bounded however deep a queue grows: at most `queue_window`
// ready messages live in memory; past that, new messages stay only in a
// store (the durable one for durable queues, the scratch one otherwise) and
// are read back in seq order as consumers drain the window.
//
// A priority queue (x-max-priority) keeps one such lane of ready messages
// per priority level, sharing the window, and always delivers from the
// highest lane that has a message in memory.
//
// A stream queue (x-queue-type stream) has no ready lanes: its messages go
// to its stream (broker/stream/stream.hpp), which appends, keeps and hands
// them to each consumer from that consumer's own offset; the queue then
// only names it, holds its consumers and forwards dispatch to it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "amqp/field_table.hpp"
#include "broker/common/lifetime_token.hpp"
#include "broker/dead_letter/x_death.hpp"
#include "broker/flow/publisher_flow.hpp"
#include "broker/model/message.hpp"
#include "broker/model/message_stats.hpp"
#include "broker/queue/queue_arguments.hpp"
#include "broker/queue/queue_browse.hpp"
#include "broker/queue/queue_services.hpp"
#include "broker/stream/stream_arguments.hpp"

namespace roost {

class queue;
class dead_letter_router;
class policy;
class stream;

struct queued_message {
  message_ref msg;  // null: an expired message left in place (see queue_expiry.cpp)
  std::uint64_t seq = 0;
  bool redelivered = false;
  // The entry exists in the durable store: an ack must remove it there.
  bool stored = false;
  // Times the message came back unacked (x-delivery-limit, x-delivery-count).
  std::uint32_t delivery_count = 0;
  // Wall-clock milliseconds after which the message is dead (TTL); 0 = never.
  std::int64_t expires_at_ms = 0;
};

// Something a queue can hand messages to. Implemented by channel consumers;
// tests implement it directly.
class consumer {
 public:
  virtual ~consumer() = default;
  // True while the consumer has credit (prefetch, flow, socket back-pressure).
  virtual bool can_take() const = 0;
  virtual void deliver(queue& from, queued_message&& m) = 0;
  // The queue is going away; the consumer must forget it. Called once, after
  // which the queue no longer lists the consumer.
  virtual void queue_deleted(queue& q) = 0;
  virtual bool exclusive() const = 0;
};

// One priority level's ready messages (a queue without priorities has one
// lane): the first ones in memory in seq order, the rest paged out. Seqs
// carry the lane in their top bits (storage::lane_base), so a lane's
// entries are one seq range in the store.
struct ready_lane {
  std::deque<queued_message> ready;  // ascending seq
  // Expired messages still in `ready` (msg null) until they reach the front.
  std::size_t expired_in_place = 0;
  // Paged-out entries: every seq of the lane above last_in_memory_seq.
  std::uint64_t paged_count = 0;
  std::uint64_t last_in_memory_seq = 0;
  // The newest paged-out seq. When nothing between last_in_memory_seq and
  // it has left (the usual deep queue of one lane), the paged seqs are
  // consecutive and a browse finds a position by arithmetic, not by
  // walking the store (paged_seqs_consecutive).
  std::uint64_t last_paged_seq = 0;
  bool paged_seqs_consecutive() const {
    return paged_count > 0 && last_paged_seq - last_in_memory_seq == paged_count;
  }
  bool loading = false;

  std::size_t in_memory() const { return ready.size() - expired_in_place; }
};

enum class durability : std::uint8_t { transient, durable };

struct queue_options {
  durability durable = durability::transient;
  bool exclusive = false;
  bool auto_delete = false;
  amqp::field_table arguments;
  // The connection that owns an exclusive queue; 0 for none.
  std::uint64_t owner = 0;
};

class queue {
 public:
  queue(std::uint32_t id, std::string name, queue_options options, queue_services services = {});
  queue(const queue&) = delete;
  queue& operator=(const queue&) = delete;
  ~queue();

  std::uint32_t id() const { return id_; }
  std::uint64_t store_id() const { return store_id_; }
  const std::string& name() const { return name_; }
  const queue_options& options() const { return options_; }
  bool durable() const { return options_.durable == durability::durable; }
  // Durable, not exclusive, and the broker has a store: the queue and its persistent messages survive restarts.
  bool persisted() const { return persisted_; }
  // x-queue-type (classic when absent or unreadable).
  queue_type type() const { return type_; }
  // The stream behind a stream queue; null for every other queue.
  stream* as_stream() { return stream_.get(); }
  const stream* as_stream() const { return stream_.get(); }

  // The arguments in force: the declared ones with the policies applied (broker/policy/effective.hpp).
  const queue_arguments& arguments() const { return args_; }
  // The x-arguments as declared, before policies.
  const queue_arguments& declared_arguments() const { return declared_args_; }
  // The policy and operator policy applying to the queue (null: none).
  const std::shared_ptr<const policy>& applied_policy() const { return policy_; }
  const std::shared_ptr<const policy>& applied_operator_policy() const { return operator_policy_; }
  // Another policy or operator policy applies now (either may be null):
  // recomputes arguments() and acts on the change at once, as RabbitMQ
  // does: a lower length limit sheds the head (dead-lettering it), the
  // x-expires clock restarts; a new TTL applies to messages that arrive
  // from now on (broker/policy/policy_apply.cpp).
  void apply_policies(std::shared_ptr<const policy> p, std::shared_ptr<const policy> op);
  // Where messages leaving this queue unconsumed go (set by the vhost; null: dropped).
  void set_dead_letter_router(dead_letter_router* r) { dead_letters_ = r; }
  // x-expires: called when the queue has been unused that long; it deletes the queue.
  void set_unused_hook(std::function<void(queue&)> f) { on_unused_ = std::move(f); }
  // A declare, basic.get, consume or cancel: restarts the x-expires clock.
  void touch();

  // Ready messages, in memory or paged out; never counts expired ones. A
  // stream's: the messages it keeps.
  std::size_t ready_count() const;
  // Body bytes of the ready messages (x-max-length-bytes).
  std::uint64_t ready_bytes() const { return ready_bytes_; }
  std::size_t consumer_count() const { return consumers_.size(); }
  const std::vector<consumer*>& consumers() const { return consumers_; }
  // Counted by the channels that publish to and deliver from this queue.
  message_stats& stats() { return stats_; }
  const message_stats& stats() const { return stats_; }
  // Whether publishers into this queue should pause now (publisher_flow.hpp).
  publisher_flow& flow() { return flow_; }
  const publisher_flow& flow() const { return flow_; }

  // Appends a message and hands ready messages to consumers that can take them.
  void enqueue(message_ref msg) {
    append(std::move(msg), false);
    dispatch();
  }
  // Appends without dispatching and returns the entry. With `stored`, the
  // caller writes it to the durable store, and must submit that before
  // calling dispatch(), so that an ack can never reach the store ahead of
  // the entry it removes. The length limit is applied in dispatch().
  storage::entry_record append(message_ref msg, bool stored);
  // x-overflow reject-publish(-dlx): the queue is full and refuses another message of this size.
  bool refuses(const message& msg) const;
  // A publish this queue refused: dead-lettered (reason maxlen) with reject-publish-dlx.
  void refused(message_ref msg);
  // Appends a message being dead-lettered into this queue; returns its
  // entry, seq 0 if the queue refused it (reject-publish).
  storage::entry_record append_dead_lettered(message_ref msg, bool stored);
  // Puts a delivered-but-unacked message back at its original position,
  // marked redelivered. Does not dispatch: a caller requeueing several
  // messages dispatches once after the last, so they go out in order.
  void requeue(queued_message&& m);
  // A delivered message was acked or dropped: forget it in the store too.
  // The store write waits in a buffer until flush_writes(), so that
  // settling many messages costs one submission.
  void settle(const queued_message& m);
  // The same, with the store write appended to `ops` instead of the buffer.
  void settle_into(const queued_message& m, std::vector<storage::operation>& ops);
  // A delivered message was rejected or nacked without requeue.
  void reject(queued_message&& m) { dead_letter(std::move(m), death_reason::rejected); }
  // Submits buffered store writes (delivery marks, removals) in one go.
  void flush_writes();
  // Removes and returns the head (basic.get), or nothing when empty.
  std::optional<queued_message> take();
  // Drops all ready messages; returns how many.
  std::size_t purge();
  // The queue is being deleted: drop its entries from the store.
  void erase_from_store();
  // Recovery: this queue is stored.queue.id in the store, which holds
  // the summarised entries; they are loaded lazily.
  void restore(const storage::queue_summary& stored);

  void add_consumer(consumer* c);
  // Returns false if c was not attached.
  bool remove_consumer(consumer* c);
  bool has_exclusive_consumer() const;
  // True once the queue has had a consumer and has none now: the moment an
  // auto-delete queue goes away.
  bool unused_after_consumers() const { return had_consumer_ && consumers_.empty(); }
  // Tells every consumer the queue is gone and detaches them.
  void detach_consumers();

  // Delivers ready messages round-robin to consumers with credit, until one runs out.
  void dispatch();
  // Dead-letters (or drops) every ready message whose TTL has passed by
  // now_ms, wherever it is in the queue (queue_expiry.cpp).
  void expire(std::int64_t now_ms);
  // Some lane is reading paged-out messages back.
  bool loading() const;
  // Nothing ready in memory, but messages wait on disk: a basic.get must
  // wait for them rather than answer get-empty.
  bool head_on_disk() const;
  // Runs `f` once the current page load has finished (or failed), or when
  // the queue is destroyed, whichever comes first.
  void when_loaded(std::function<void()> f);
  // Takes a ready message out of the queue (the admin API's delete and
  // move), as a browse saw it, in memory or paged out (queue_remove.cpp).
  // The durable store's writes go to `ops` for the caller to submit. False
  // when it is no longer ready: delivered, expired or removed since.
  bool remove_ready(const ready_view& seen, std::vector<storage::operation>& ops);
  // Reads ready messages without changing anything (queue_browse.cpp).
  // `done` runs once on the broker thread, later when paged-out messages
  // must be read; if the queue is deleted meanwhile, with what was read.
  void browse(browse_request request, browsed_page done);
  // Reads the ready messages with these seqs (ids a browse showed), the
  // same way; those no longer ready are left out.
  void read_ready(const std::vector<std::uint64_t>& seqs, browsed_page done);

 private:
  struct browse_walk;
  // Reads on until the page is full, the queue ends, or a store read is needed.
  void browse_step(const std::shared_ptr<browse_walk>& w);
  consumer* next_consumer_with_credit();
  ready_lane& lane_of(std::uint64_t seq) { return lanes_[storage::lane_of(seq)]; }
  void add_lane();
  // Counts nothing in lane l as paged: every seq issued so far is accounted for.
  void forget_paged(std::size_t l);
  // How many ready messages each lane keeps in memory before paging.
  std::size_t lane_window() const;
  // The message is past the window: make sure a store has it and count it as paged.
  void page_out(ready_lane& lane, const message_ref& msg, const storage::entry_record& entry, bool stored);
  // A message read back from a store.
  static message_ref rebuild(storage::loaded_entry& e);
  // Starts reading the next paged-out messages back into lanes whose window runs low.
  void refill();
  void refill(std::size_t lane);
  // Loads paged-out messages into a lane; `loaded` is what a load_entries read.
  void accept_loaded(std::size_t lane, std::vector<storage::loaded_entry>& loaded, storage::store& from);
  storage::store* page_store() const;
  void mark_delivered(queued_message& m);
  void wake_load_waiters();
  // The highest-priority lane holding any ready message, in memory or paged out.
  const ready_lane* head_lane() const;
  // The head lane with its expired front slots dropped, when its next
  // message is in memory; null when the queue is empty or that message is
  // still on disk (lower priorities wait for it).
  ready_lane* front_lane();
  // Takes the first live ready message off the front of the queue.
  std::optional<queued_message> pop_ready();
  queued_message pop_front(ready_lane& lane);
  void drop_expired_front(ready_lane& lane);
  void dead_letter(queued_message&& m, death_reason reason);
  // Expiry (queue_expiry.cpp).
  std::int64_t expiry_for(const message& msg, std::int64_t now_ms) const;
  void index_expiry(std::int64_t expires_at_ms, std::uint64_t seq, std::uint64_t bytes);
  void unindex_expiry(const queued_message& m);
  void expire_in_memory(ready_lane& lane, std::uint64_t seq);
  void expire_paged(std::vector<std::uint64_t>& seqs);
  void schedule_expiry();
  // Forgets removed_paged_ seqs that lane l's loads have passed.
  void prune_removed(std::size_t l);
  // The message's expiry was handled, or it was removed, while it was paged out: skip it when it is loaded.
  bool skip_loaded(const storage::loaded_entry& e) const;
  void schedule_unused_check();
  // Length limits (queue_limits.cpp): drop-head until the queue fits.
  void enforce_length_limit();
  // Delivery limit (queue_limits.cpp): counts a return; true if m must go instead.
  bool past_delivery_limit(queued_message& m);

  std::uint32_t id_;
  std::string name_;
  queue_options options_;
  queue_arguments args_;
  dead_letter_router* dead_letters_ = nullptr;
  std::uint64_t ready_bytes_ = 0;
  // (expires_at_ms, seq) of every ready message with a TTL, in memory or paged out.
  // The value is the message's body size, for ready_bytes_ when a paged-out one expires.
  std::map<std::pair<std::int64_t, std::uint64_t>, std::uint64_t> expiry_index_;
  std::int64_t expiry_scheduled_at_ = 0;  // the earliest wake-up asked of the scheduler; 0 = none
  // The clock reading of the last append with a TTL since the last dispatch; 0 = none (see dispatch()).
  std::int64_t appended_at_ms_ = 0;
  // Paged-out seqs expired and being read back to be dead-lettered.
  std::unordered_set<std::uint64_t> expiring_paged_;
  // Paged-out seqs taken out by remove_ready that a load in flight may still
  // read back; each goes once its lane's loads have passed it.
  std::set<std::uint64_t> removed_paged_;
  std::function<void(queue&)> on_unused_;
  std::int64_t last_used_ms_ = 0;
  bool unused_check_pending_ = false;
  // Bumped when policies are applied (x-expires may have changed): a wake-up armed before is ignored.
  std::uint64_t unused_generation_ = 0;
  storage_context* storage_;
  // Ready messages kept in memory, shared by the lanes; the rest is paged out.
  std::size_t window_;
  deadline_scheduler* timers_;
  std::uint64_t store_id_ = 0;
  bool persisted_ = false;
  // Indexed by priority; one lane without x-max-priority.
  std::vector<ready_lane> lanes_;
  // The arrival counter: the low bits of the next seq, whatever its lane.
  std::uint64_t next_counter_ = 1;
  lifetime_token<queue> alive_{this};
  std::vector<storage::operation> writes_;  // for the durable store, see flush_writes()
  std::vector<std::function<void()>> load_waiters_;
  std::vector<consumer*> consumers_;
  std::size_t next_consumer_ = 0;
  bool had_consumer_ = false;
  bool dispatching_ = false;
  message_stats stats_;
  publisher_flow flow_;
  // Cold, read only when policies change (args_ above is what the message path reads).
  queue_arguments declared_args_;
  std::shared_ptr<const policy> policy_;
  std::shared_ptr<const policy> operator_policy_;
  queue_type type_ = queue_type::classic;
  std::unique_ptr<stream> stream_;
};

}  // namespace roost
