// Each record and operation lists its fields once (fields() below); one
// writer and one reader walk those lists, so encoding and decoding cannot
// disagree about an order.
#include "storage/batch_codec.hpp"

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace roost::storage {

namespace {

constexpr std::uint8_t format_version = 1;
// The tags are indexes into the variant: adding an operation anywhere but
// at the end would change the meaning of batches in flight.
static_assert(std::variant_size_v<operation> == 28, "new operations go at the end of storage::operation");

template <class R, class T>
concept record_of = std::same_as<std::remove_const_t<R>, T>;

// ---- the field lists: records, then operations ----
void fields(auto& f, record_of<exchange_record> auto& r) {
  f(r.vhost, r.name, r.type, r.auto_delete, r.internal, r.arguments);
}
void fields(auto& f, record_of<queue_record> auto& r) { f(r.id, r.vhost, r.name, r.auto_delete, r.arguments); }
void fields(auto& f, record_of<binding_record> auto& r) {
  f(r.vhost, r.source, r.to_exchange, r.destination, r.routing_key, r.arguments);
}
// keep_alive is not data: the decoder points it at the encoded bytes.
void fields(auto& f, record_of<message_content> auto& r) {
  f(r.id, r.exchange, r.routing_key, r.properties, r.body, r.persistent);
}
void fields(auto& f, record_of<entry_record> auto& r) {
  f(r.queue_id, r.seq, r.message_id, r.delivery_count, r.delivered, r.expires_at_ms, r.appended_at_ms);
}
void fields(auto& f, record_of<delayed_record> auto& r) { f(r.message_id, r.due_at_ms, r.queue_ids); }
void fields(auto& f, record_of<user_record> auto& r) {
  f(r.name, r.password_hash, r.hashing_algorithm, r.tags, r.max_connections, r.max_channels);
}
void fields(auto& f, record_of<vhost_record> auto& r) {
  f(r.name, r.description, r.tags, r.default_queue_type, r.max_connections, r.max_queues);
}
void fields(auto& f, record_of<permission_record> auto& r) { f(r.user, r.vhost, r.configure, r.write, r.read); }
void fields(auto& f, record_of<topic_permission_record> auto& r) {
  f(r.user, r.vhost, r.exchange, r.write, r.read);
}
void fields(auto& f, record_of<policy_record> auto& r) {
  f(r.vhost, r.name, r.operator_policy, r.pattern, r.apply_to, r.priority, r.definition);
}

void fields(auto& f, record_of<put_exchange> auto& op) { f(op.exchange); }
void fields(auto& f, record_of<delete_exchange> auto& op) { f(op.vhost, op.name); }
void fields(auto& f, record_of<put_queue> auto& op) { f(op.queue); }
void fields(auto& f, record_of<delete_queue> auto& op) { f(op.queue_id); }
void fields(auto& f, record_of<put_binding> auto& op) { f(op.binding); }
void fields(auto& f, record_of<delete_binding> auto& op) { f(op.binding); }
void fields(auto& f, record_of<insert_message> auto& op) { f(op.content); }
void fields(auto& f, record_of<insert_entry> auto& op) { f(op.entry); }
void fields(auto& f, record_of<remove_entry> auto& op) { f(op.queue_id, op.seq); }
void fields(auto& f, record_of<update_entry> auto& op) { f(op.entry); }
void fields(auto& f, record_of<purge_queue> auto& op) { f(op.queue_id, op.from_seq, op.to_seq); }
void fields(auto&, record_of<load_entries> auto&) { throw bad_batch("a read (load_entries) in a batch"); }
void fields(auto& f, record_of<insert_delayed> auto& op) { f(op.delayed); }
void fields(auto& f, record_of<remove_delayed> auto& op) { f(op.message_id); }
void fields(auto& f, record_of<put_user> auto& op) { f(op.user); }
void fields(auto& f, record_of<delete_user> auto& op) { f(op.name); }
void fields(auto& f, record_of<put_vhost> auto& op) { f(op.vhost); }
void fields(auto& f, record_of<delete_vhost> auto& op) { f(op.name); }
void fields(auto& f, record_of<put_permission> auto& op) { f(op.permission); }
void fields(auto& f, record_of<delete_permission> auto& op) { f(op.user, op.vhost); }
void fields(auto& f, record_of<put_topic_permission> auto& op) { f(op.permission); }
void fields(auto& f, record_of<delete_topic_permission> auto& op) { f(op.user, op.vhost, op.exchange); }
void fields(auto& f, record_of<put_policy> auto& op) { f(op.policy); }
void fields(auto& f, record_of<delete_policy> auto& op) { f(op.vhost, op.name, op.operator_policy); }
void fields(auto& f, record_of<record_position> auto& op) { f(op.position.epoch, op.position.seq); }
void fields(auto& f, record_of<start_segment> auto& op) { f(op.queue_id, op.first_seq); }
void fields(auto& f, record_of<put_stream_offset> auto& op) { f(op.queue_id, op.consumer_tag, op.offset); }
void fields(auto& f, record_of<append_stream> auto& op) { f(op.queue_id, op.seq, op.appended_at_ms, op.content); }

template <class T>
concept has_fields = std::is_class_v<T> && !std::same_as<T, std::string> && !std::same_as<T, std::string_view> &&
                     !std::same_as<T, std::optional<std::int64_t>> && !std::same_as<T, std::vector<std::uint64_t>>;

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  template <class... T>
  void operator()(const T&... values) {
    (put(values), ...);
  }

  template <std::unsigned_integral T>
  void put_uint(T value) {
    for (int shift = 8 * static_cast<int>(sizeof(T)) - 8; shift >= 0; shift -= 8)
      out_.push_back(static_cast<char>((value >> shift) & 0xff));
  }

 private:
  void put(bool value) { out_.push_back(value ? 1 : 0); }
  void put(std::uint32_t value) { put_uint(value); }
  void put(std::uint64_t value) { put_uint(value); }
  void put(std::int64_t value) { put_uint(static_cast<std::uint64_t>(value)); }
  void put(std::string_view bytes) {
    put_uint(static_cast<std::uint32_t>(bytes.size()));
    out_.append(bytes);
  }
  void put(const std::string& bytes) { put(std::string_view(bytes)); }
  void put(const std::optional<std::int64_t>& value) {
    put(value.has_value());
    if (value) put(*value);
  }
  void put(const std::vector<std::uint64_t>& ids) {
    put_uint(static_cast<std::uint32_t>(ids.size()));
    for (std::uint64_t id : ids) put(id);
  }
  template <has_fields R>
  void put(const R& record) {
    fields(*this, record);
  }

  std::string& out_;
};

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  template <class... T>
  void operator()(T&... values) {
    (get(values), ...);
  }

  template <std::unsigned_integral T>
  T get_uint() {
    std::string_view raw = take(sizeof(T));
    T value = 0;
    for (char byte : raw) value = static_cast<T>((value << 8) | static_cast<unsigned char>(byte));
    return value;
  }

  bool done() const { return in_.empty(); }

 private:
  std::string_view take(std::size_t n) {
    if (n > in_.size()) throw bad_batch("a batch cut short");
    std::string_view out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  void get(bool& value) {
    std::uint8_t byte = get_uint<std::uint8_t>();
    if (byte > 1) throw bad_batch("a flag that is neither 0 nor 1");
    value = byte == 1;
  }
  void get(std::uint32_t& value) { value = get_uint<std::uint32_t>(); }
  void get(std::uint64_t& value) { value = get_uint<std::uint64_t>(); }
  void get(std::int64_t& value) { value = static_cast<std::int64_t>(get_uint<std::uint64_t>()); }
  void get(std::string_view& bytes) { bytes = take(get_uint<std::uint32_t>()); }
  void get(std::string& bytes) { bytes = take(get_uint<std::uint32_t>()); }
  void get(std::optional<std::int64_t>& value) {
    bool present = false;
    get(present);
    value.reset();
    if (present) get(value.emplace());
  }
  void get(std::vector<std::uint64_t>& ids) {
    std::uint32_t count = get_uint<std::uint32_t>();
    if (count > in_.size() / 8) throw bad_batch("a list longer than the batch");
    ids.resize(count);
    for (std::uint64_t& id : ids) get(id);
  }
  template <has_fields R>
  void get(R& record) {
    fields(*this, record);
  }

  std::string_view in_;
};

template <std::size_t... tag>
operation read_operation(std::uint8_t wanted, reader& in, std::index_sequence<tag...>) {
  operation op;
  bool known = ((wanted == tag ? (fields(in, op.template emplace<tag>()), true) : false) || ...);
  if (!known) throw bad_batch("an unknown operation tag " + std::to_string(wanted));
  return op;
}

}  // namespace

void encode_batch(batch_position position, const std::vector<const operation*>& ops, std::string& out) {
  writer w(out);
  w.put_uint(format_version);
  w.put_uint(position.epoch);
  w.put_uint(position.seq);
  std::size_t count_at = out.size();
  w.put_uint(std::uint32_t{0});
  std::uint32_t count = 0;
  for (const operation* op : ops) {
    if (op == nullptr || std::holds_alternative<load_entries>(*op)) continue;
    w.put_uint(static_cast<std::uint8_t>(op->index()));
    std::visit([&](const auto& o) { fields(w, o); }, *op);
    ++count;
  }
  for (int i = 0; i < 4; ++i) out[count_at + i] = static_cast<char>((count >> (24 - 8 * i)) & 0xff);
}

decoded_batch decode_batch(std::shared_ptr<const std::string> encoded) {
  reader in(*encoded);
  if (in.get_uint<std::uint8_t>() != format_version) throw bad_batch("a batch of another format version");
  decoded_batch batch;
  batch.position.epoch = in.get_uint<std::uint64_t>();
  batch.position.seq = in.get_uint<std::uint64_t>();
  std::uint32_t count = in.get_uint<std::uint32_t>();
  // Every operation takes at least its tag byte.
  if (count > encoded->size()) throw bad_batch("more operations than the batch has bytes");
  batch.ops.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto tag = in.get_uint<std::uint8_t>();
    batch.ops.push_back(read_operation(tag, in, std::make_index_sequence<std::variant_size_v<operation>>()));
    if (auto* message = std::get_if<insert_message>(&batch.ops.back())) message->content.keep_alive = encoded;
    if (auto* append = std::get_if<append_stream>(&batch.ops.back())) append->content.keep_alive = encoded;
  }
  if (!in.done()) throw bad_batch("bytes after the last operation");
  return batch;
}

}  // namespace roost::storage
