// Self-test of the musl toolchain: C++20, exceptions, threads, iostream, filesystem.
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static int thrower(int x) {
  if (x > 0) throw std::runtime_error("boom " + std::to_string(x));
  return x;
}

int main() {
  int caught = 0;
  try { thrower(42); } catch (const std::exception &e) { caught = e.what() == std::string("boom 42"); }
  std::mutex m;
  long sum = 0;
  std::vector<std::thread> ts;
  for (int i = 1; i <= 4; ++i)
    ts.emplace_back([&, i] { std::lock_guard g(m); sum += i; });
  for (auto &t : ts) t.join();
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 1);
  std::span<const int> s(v);
  bool fs = std::filesystem::exists("/") && std::filesystem::is_directory("/");
  bool ok = caught && sum == 10 && std::accumulate(s.begin(), s.end(), 0) == 55 && fs;
  std::cout << (ok ? "musl-toolchain-ok" : "musl-toolchain-FAILED") << std::endl;
  return ok ? 0 : 1;
}
