// Lets a callback that may run after an object is gone (a store completion,
// say) find out whether the object still exists, without shared ownership
// of the object itself. Broker thread only.
#pragma once

#include <memory>

namespace roost {

template <class T>
class lifetime_token {
 public:
  explicit lifetime_token(T* self) : self_(std::make_shared<T*>(self)) {}
  lifetime_token(const lifetime_token&) = delete;
  lifetime_token& operator=(const lifetime_token&) = delete;
  ~lifetime_token() { *self_ = nullptr; }

  // Copy this into the callback; it holds nullptr once the object is destroyed.
  std::shared_ptr<T* const> watch() const { return self_; }

 private:
  std::shared_ptr<T*> self_;
};

}  // namespace roost
