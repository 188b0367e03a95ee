#include "replication/leader_link.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "replication/link_messages.hpp"
#include "replication/link_stream.hpp"

namespace roost::replication {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A follower must prove itself this soon after connecting.
constexpr auto handshake_timeout = 10s;
// Bytes queued to one follower before it is sent more: enough to keep a
// local link busy, little enough that a stalled follower costs little.
constexpr std::size_t session_window = 4u << 20;
// After the hello a follower sends only acks.
constexpr std::uint32_t max_follower_frame = 64;
// A snapshot goes out in chunks of this size.
constexpr std::size_t snapshot_chunk_size = 1u << 20;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

// A snapshot on disk, removed once the last session sending it is done.
struct leader_link::snapshot_file {
  std::string path;
  storage::snapshot_taken taken;
  snapshot_file() = default;
  snapshot_file(const snapshot_file&) = delete;
  snapshot_file& operator=(const snapshot_file&) = delete;
  ~snapshot_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

struct leader_link::session : std::enable_shared_from_this<session> {
  session(tcp::socket s, asio::io_context& io) : stream(std::move(s)), handshake_timer(io) {}

  struct frame {
    std::string head;
    std::shared_ptr<const std::string> body;  // a batch's encoding; null for other messages
  };

  link_stream stream;
  asio::steady_timer handshake_timer;
  std::string nonce;
  std::string node_id;  // set once proven
  bool forwarding = false;  // came with the forward preface: a client connection, not a follower
  bool open = true;
  bool close_when_sent = false;
  std::array<char, frame_header_size> header{};
  std::string payload;
  std::uint64_t next_seq = 0;
  std::shared_ptr<snapshot_file> snapshot;  // being sent instead of batches
  std::ifstream snapshot_in;
  std::uint64_t snapshot_sent = 0;
  std::deque<frame> queued;
  std::vector<frame> sending;
  std::size_t queued_bytes = 0;

  void send(frame f) {
    queued_bytes += f.head.size() + (f.body ? f.body->size() : 0);
    queued.push_back(std::move(f));
    flush();
  }

  void flush() {
    if (!sending.empty() || queued.empty() || !open) return;
    sending.assign(std::make_move_iterator(queued.begin()), std::make_move_iterator(queued.end()));
    queued.clear();
    std::vector<asio::const_buffer> buffers;
    for (const frame& f : sending) {
      buffers.push_back(asio::buffer(f.head));
      if (f.body) buffers.push_back(asio::buffer(*f.body));
    }
    asio::async_write(stream, buffers, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      self->queued_bytes -= std::min(self->queued_bytes, n);
      self->sending.clear();
      if (ec) {
        self->shut();
        return;
      }
      if (self->close_when_sent && self->queued.empty()) {
        self->shut();
        return;
      }
      if (self->on_sent) self->on_sent();
      self->flush();
    });
  }

  void shut() {
    if (!open) return;
    open = false;
    stream.close();
    handshake_timer.cancel();
  }

  std::function<void()> on_sent;  // the link tops the queue up

  std::string peer() {
    boost::system::error_code ignored;
    return stream.socket().remote_endpoint(ignored).address().to_string();
  }
};

leader_link::leader_link(asio::io_context& io, tcp::acceptor acceptor, leader_link_options options,
                         leader_link_events events, leader_history history, batch_log retained)
    : io_(io),
      options_(std::move(options)),
      events_(std::move(events)),
      history_(std::move(history)),
      isr_(options_.node_id, options_.lag_timeout, history_.last_seq),
      acceptor_(std::move(acceptor)),
      review_timer_(io),
      retained_(std::move(retained)) {
  if (!retained_.empty() && retained_.newest() != history_.last_seq) retained_.clear();
  history_.oldest_retained = retained_.empty() ? history_.last_seq + 1 : retained_.oldest();
}

leader_link::~leader_link() {
  *alive_ = false;
  if (snapshot_worker_.joinable()) snapshot_worker_.join();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, s] : sessions_) s->shut();
}

void leader_link::start() {
  review_periodically();
  accept();
}

void leader_link::log(const std::string& text) {
  if (events_.log) events_.log(text);
}

void leader_link::accept() {
  acceptor_.async_accept([this, alive = alive_](const boost::system::error_code& ec, tcp::socket socket) {
    if (!*alive) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) accept();
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), io_);
    s->nonce = random_nonce();
    s->handshake_timer.expires_after(handshake_timeout);
    s->handshake_timer.async_wait([s](const boost::system::error_code& timer_ec) {
      if (!timer_ec && s->node_id.empty()) s->shut();
    });
    arrive(s);
    accept();
  });
}

// The first byte says who connects (link_messages.hpp). It is peeked, not
// taken, so that a TLS handshake's first record stays whole.
void leader_link::arrive(const std::shared_ptr<session>& s) {
  s->stream.socket().async_wait(tcp::socket::wait_read, [this, s, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || !s->open) return;
    char first = 0;
    boost::system::error_code read_ec = ec;
    if (!read_ec) s->stream.socket().receive(asio::buffer(&first, 1), tcp::socket::message_peek, read_ec);
    if (read_ec) return s->shut();
    bool tls = options_.tls != nullptr;
    if (first == tls_record_start && tls) return start_tls(s);
    if (first == forward_preface || (first == replicate_preface && !tls)) {
      s->stream.socket().receive(asio::buffer(&first, 1), 0, read_ec);
      s->forwarding = first == forward_preface;
      return challenge(s);
    }
    if (first == replicate_preface)
      log("replication: refused a follower from " + s->peer() +
          ": it does not use TLS, and this node runs with --replication-tls");
    else if (first == tls_record_start)
      log("replication: refused a TLS connection from " + s->peer() + ": this node runs without --replication-tls");
    s->shut();  // anything else: not a Roost node
  });
}

void leader_link::start_tls(const std::shared_ptr<session>& s) {
  s->stream.start_tls(*options_.tls);
  s->stream.tls()->async_handshake(asio::ssl::stream_base::server, [this, s, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || !s->open) return;
    if (ec) {
      log("replication: TLS handshake with " + s->peer() + " failed: " + ec.message());
      return s->shut();
    }
    challenge(s);
  });
}

void leader_link::challenge(const std::shared_ptr<session>& s) {
  s->send({challenge_frame(s->nonce), nullptr});
  welcome(s);
}

// Reads one frame at a time: the hello, then acks.
void leader_link::welcome(const std::shared_ptr<session>& s) {
  asio::async_read(s->stream, asio::buffer(s->header), [this, s, alive = alive_](boost::system::error_code ec, std::size_t) {
    if (!*alive) return;
    if (ec) return closed(s, ec.message());
    frame_header h;
    try {
      h = parse_frame_header({s->header.data(), s->header.size()},
                             s->node_id.empty() ? max_handshake_frame : max_follower_frame);
    } catch (const bad_message& e) {
      return closed(s, e.what());
    }
    s->payload.resize(h.payload_size);
    asio::async_read(s->stream, asio::buffer(s->payload), [this, s, h, alive](boost::system::error_code read_ec, std::size_t) {
      if (!*alive) return;
      if (read_ec) return closed(s, read_ec.message());
      try {
        if (s->node_id.empty() && !s->forwarding && h.type == message_type::hello) {
          hello greeting = parse_hello(s->payload);
          if (!proof_matches(options_.secret, s->nonce, greeting)) {
            s->close_when_sent = true;
            s->send({refuse_frame("authentication failed: wrong cluster secret"), nullptr});
            return log("replication: refused a follower from " + s->peer() + ": wrong cluster secret");
          }
          s->node_id = greeting.node_id;
          s->handshake_timer.cancel();
          join_plan plan = plan_join(greeting.position, history_);
          if (plan != join_plan::stream) {
            log("replication: follower " + s->node_id + " at batch " + std::to_string(greeting.position.seq) +
                (plan == join_plan::diverged ? " holds batches this leader does not have"
                                             : " lacks batches this leader no longer retains") +
                "; sending it a snapshot");
            send_snapshot(s);
            return welcome(s);
          }
          if (auto old = sessions_.find(s->node_id); old != sessions_.end()) old->second->shut();
          sessions_[s->node_id] = s;
          s->next_seq = greeting.position.seq + 1;
          s->on_sent = [this, weak = std::weak_ptr<session>(s)] {
            if (auto live = weak.lock()) pump(live);
          };
          isr_.connected(s->node_id, greeting.position.seq);
          log("replication: follower " + s->node_id + " joined at batch " + std::to_string(greeting.position.seq) +
              " (leader at " + std::to_string(history_.last_seq) + ")");
          pump(s);
          review();
        } else if (s->forwarding && h.type == message_type::forward) {
          return hand_over(s, parse_forward(s->payload));
        } else if (!s->node_id.empty() && h.type == message_type::ack) {
          acked(s, parse_ack(s->payload));
        } else {
          return closed(s, "unexpected replication message");
        }
      } catch (const bad_message& e) {
        return closed(s, e.what());
      }
      welcome(s);
    });
  });
}

// No refusal frame on a wrong proof: the bytes would reach the client.
void leader_link::hand_over(const std::shared_ptr<session>& s, const forward& f) {
  if (!proof_matches(options_.secret, s->nonce, f)) {
    log("replication: refused a forwarded connection from " + s->peer() + ": wrong cluster secret");
    return s->shut();
  }
  s->handshake_timer.cancel();
  s->open = false;  // the socket is the client's from here; the session lets go of it
  if (events_.forwarded) events_.forwarded(std::move(s->stream.socket()), f);
}

void leader_link::send_snapshot(const std::shared_ptr<session>& s) {
  awaiting_snapshot_.push_back(s);
  if (snapshot_worker_.joinable()) return;  // the one being taken serves this follower too
  std::string file = options_.snapshot_dir + "/replication-snapshot-" + std::to_string(++snapshots_taken_) + ".db";
  snapshot_worker_ = std::thread([this, alive = alive_, file, source = options_.store_file] {
    storage::snapshot_taken taken = storage::take_snapshot(source, file);
    asio::post(io_, [this, alive, taken, file] {
      if (*alive) snapshot_ready(taken, file);
    });
  });
}

void leader_link::snapshot_ready(const storage::snapshot_taken& taken, const std::string& file) {
  snapshot_worker_.join();
  auto waiting = std::move(awaiting_snapshot_);
  awaiting_snapshot_.clear();
  if (taken.error) {
    log("replication: " + *taken.error);
    for (auto& s : waiting) closed(s, *taken.error);
    return;
  }
  // Built in place: a copy's destructor would remove the file.
  auto snapshot = std::make_shared<snapshot_file>();
  snapshot->path = file;
  snapshot->taken = taken;
  log("replication: snapshot at batch " + std::to_string(taken.position.seq) + ", " + std::to_string(taken.size) +
      " bytes");
  for (auto& s : waiting) {
    if (!s->open) continue;
    s->snapshot = snapshot;
    s->snapshot_in.open(file, std::ios::binary);
    if (!s->snapshot_in) {
      closed(s, "cannot open the snapshot file");
      continue;
    }
    s->on_sent = [this, weak = std::weak_ptr<session>(s)] {
      if (auto live = weak.lock()) pump(live);
    };
    pump(s);
  }
}

void leader_link::pump(const std::shared_ptr<session>& s) {
  if (s->snapshot) {
    std::uint64_t size = s->snapshot->taken.size;
    while (s->open && s->queued_bytes < session_window && s->snapshot_sent < size) {
      auto chunk = std::make_shared<std::string>(std::min<std::uint64_t>(snapshot_chunk_size, size - s->snapshot_sent), '\0');
      if (!s->snapshot_in.read(chunk->data(), static_cast<std::streamsize>(chunk->size())))
        return closed(s, "cannot read the snapshot file");
      s->snapshot_sent += chunk->size();
      s->send({snapshot_chunk_header(chunk->size()), std::move(chunk)});
    }
    if (s->open && s->snapshot_sent == size && !s->close_when_sent) {
      // The follower installs it and comes back for the batches after it.
      s->close_when_sent = true;
      s->send({snapshot_end_frame({s->snapshot->taken.position, size}), nullptr});
    }
    return;
  }
  while (s->open && s->queued_bytes < session_window && s->next_seq <= history_.last_seq) {
    std::shared_ptr<const std::string> encoded = retained_.find(s->next_seq);
    if (!encoded) return closed(s, "it fell behind the batches this leader retains");
    s->send({batch_frame_header(encoded->size()), std::move(encoded)});
    ++s->next_seq;
  }
}

void leader_link::acked(const std::shared_ptr<session>& s, std::uint64_t seq) {
  isr_.acked(s->node_id, seq);
  release();
  review();
}

void leader_link::closed(const std::shared_ptr<session>& s, const std::string& why) {
  bool was_open = s->open;
  s->shut();
  if (s->node_id.empty()) return;
  auto it = sessions_.find(s->node_id);
  if (it == sessions_.end() || it->second != s) return;
  sessions_.erase(it);
  isr_.disconnected(s->node_id);
  if (was_open) log("replication: follower " + s->node_id + " left: " + why);
}

void leader_link::add(storage::shipped_batch batch) {
  std::uint64_t seq = batch.position.seq;
  history_.last_seq = seq;
  isr_.shipped(seq, std::chrono::steady_clock::now());
  retained_.append(seq, std::move(batch.encoded));
  history_.oldest_retained = retained_.oldest();
  if (!batch.done.empty()) held_.push_back({seq, std::move(batch.done)});
  for (auto& [id, s] : sessions_) pump(s);
  release();
}

void leader_link::release() {
  std::uint64_t confirmable = isr_.confirmable();
  while (!held_.empty() && held_.front().seq <= confirmable) {
    std::vector<storage::completion> done = std::move(held_.front().done);
    held_.pop_front();
    for (storage::completion& d : done)
      if (d) d(true);
  }
}

void leader_link::review() {
  if (writing_list_) return;
  // The first list did not reach etcd (it was down): nothing is confirmed
  // until it does, so keep trying.
  if (!isr_.known()) return write_list({options_.node_id}, "elected");
  if (auto change = isr_.next_change(std::chrono::steady_clock::now()))
    write_list(std::move(change->members), std::move(change->reason));
}

// A follower that stops acknowledging sends nothing that would trigger a
// review: the clock does.
void leader_link::review_periodically() {
  review();
  review_timer_.expires_after(std::max<std::chrono::milliseconds>(options_.lag_timeout / 4, 50ms));
  review_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) review_periodically();
  });
}

void leader_link::write_list(std::vector<std::string> members, std::string reason) {
  writing_list_ = true;
  auto written = [this, alive = alive_, members, reason](bool ok) {
    if (!*alive) return;
    writing_list_ = false;
    if (!ok) return log("replication: could not write the in-sync replica list to etcd; retrying");
    isr_.written(members);
    log("in-sync replicas: " + joined(members) + " (" + reason + ")");
    release();
  };
  events_.write_isr(members, std::move(written));
}

}  // namespace roost::replication
