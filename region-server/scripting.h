// The server's side of scripting (docs/scripting.md): the two Lua engines (EVAL scripts,
// FUNCTION libraries), the script that runs now (the script "client" redis.call dispatches as,
// -BUSY and SCRIPT KILL once it ran past busy-reply-threshold) and the replicated function
// libraries. Commands: scripting_family.cc. Event-loop thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "region-server/command.h"
#include "region-server/server.h"
#include "scripting/lua_engine.h"

namespace activekv::server {

// One running script or function: the ScriptHost its redis.call goes through.
class ScriptRun final : public scripting::ScriptHost {
 public:
  ScriptRun(Server* server, Client* caller, bool read_only, bool eval_mode, bool allow_oom,
            std::string name, absl::Span<const std::string_view> command);

  std::string Call(const std::vector<std::string_view>& args, int resp,
                   std::string* reply) override;
  bool Interrupt() override;
  void Log(int level, std::string_view message) override;
  bool KnownCommand(std::string_view name) override;

  const Client* caller() const { return caller_; }
  const Client* script_client() const { return &client_; }
  bool eval_mode() const { return eval_mode_; }
  bool write_dirty() const { return write_dirty_; }
  bool timed_out() const { return timed_out_; }
  const std::string& name() const { return name_; }
  const std::vector<std::string>& command() const { return command_; }
  int64_t duration_ms() const;
  void Kill() { killed_ = true; }

 private:
  Server* server_;
  Client* caller_;
  Client client_;  // the script's own client: the caller's database, redis.setresp's protocol
  bool read_only_;
  bool eval_mode_;
  // maxmemory, as Redis's scriptVerifyOOM: a script that started above it may not make its first
  // write (one that may grow memory); once it wrote, it runs to the end.
  bool oom_at_start_;
  std::string name_;
  std::vector<std::string> command_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_serve_{};
  bool write_dirty_ = false;
  bool timed_out_ = false;
  bool killed_ = false;
};

class Scripting {
 public:
  explicit Scripting(Server* server);
  ~Scripting();

  scripting::LuaEngine& eval() { return *eval_; }
  scripting::LuaEngine& functions();
  // CONFIG SET lua-memory-limit: both interpreters.
  void SetMemoryLimit(size_t bytes);

  // The dispatcher's gate: while a script runs past busy-reply-threshold, every command but the
  // few Redis allows (SCRIPT KILL, FUNCTION KILL/STATS, HELLO, ...) gets -BUSY. True when it
  // replied.
  bool RefuseWhileBusy(const CommandSpec& spec, absl::Span<const std::string_view> args,
                       const Client* client, resp::ReplyBuilder* reply);
  ScriptRun* current() { return current_; }

  // Runs a script or function as `ctx`'s client. `allow_oom`: its writes are not refused above
  // maxmemory (the allow-oom flag).
  void Run(CommandContext& ctx, int ref, std::string_view name, bool eval_mode, bool read_only,
           bool allow_oom, const std::vector<std::string_view>& keys,
           const std::vector<std::string_view>& args);

  // SCRIPT KILL / FUNCTION KILL.
  void Kill(CommandContext& ctx, bool eval_mode);

  // Brings the function engine in line with the replicated libraries (Keyspace::functions()):
  // libraries loaded, replaced or deleted by any region since the last call.
  void SyncLibraries();

 private:
  Server* server_;
  std::unique_ptr<scripting::LuaEngine> eval_;
  std::unique_ptr<scripting::LuaEngine> functions_;
  uint64_t synced_generation_ = 0;
  ScriptRun* current_ = nullptr;
};

// The command runs inside a script (redis.call / redis.pcall): Redis's CLIENT_SCRIPT.
bool InScript(const CommandContext& ctx);

}  // namespace activekv::server
