#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "stack/component.h"
#include "stack/jvm_services.h"
#include "stack/ports.h"
#include "stack/process.h"
#include "stack/provision.h"
#include "temp_dir.h"

namespace fp::stack {
namespace {

TEST(ReadProcFile, ReadsOrSaysNoWithoutThrowing) {
  const auto self = read_proc_file("/proc/self/stat");
  ASSERT_TRUE(self);
  EXPECT_NE(self->find(')'), std::string::npos);
  EXPECT_FALSE(read_proc_file("/proc/999999999/stat"));  // no such process
  EXPECT_FALSE(read_proc_file("/proc/self/mem"));        // opens, but read() fails
}

TEST(KafkaClusterId, NeverLooksLikeAnOptionAndHasKafkasForm) {
  // One id in 64 would start with '-' if drawn once; 5 000 draws would meet ~78 of them.
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    auto drawn = new_cluster_id();
    ASSERT_TRUE(drawn.ok()) << drawn.error().message;
    const std::string id = *drawn;
    ASSERT_EQ(id.size(), 22u) << id;
    ASSERT_NE(id.front(), '-') << id;
    ASSERT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5000u);
}

using TemplateTest = TempDirTest;

TEST_F(TemplateTest, RendersEveryPlaceholder) {
  std::ofstream(dir_ / "t.properties") << "port=@PORT@\ndir=@STATE_DIR@/x\nemail=a@b.c\n";
  auto r = render_template(dir_ / "t.properties", {{"PORT", "9092"}, {"STATE_DIR", "/s"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "port=9092\ndir=/s/x\nemail=a@b.c\n");
}

TEST_F(TemplateTest, MissingValueIsAnError) {
  std::ofstream(dir_ / "t.properties") << "port=@PORT@\nhost=@HOST@\n";
  auto r = render_template(dir_ / "t.properties", {{"PORT", "1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("@HOST@"), std::string::npos);
}

TEST(PlaceholderTest, FillsOursLeavesConnectProviderReferences) {
  auto r = fill_template_variables(R"({"host":"${POSTGRES_HOST}","pw":"${file:/x/s.properties:password}"})",
                                   {{"POSTGRES_HOST", "db\"1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"host":"db\"1","pw":"${file:/x/s.properties:password}"})");
  auto bad = fill_template_variables("${NOPE}", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("NOPE"), std::string::npos);
}

TEST(PlaceholderTest, SqlGrantsTakeValuesAlreadyQuoted) {
  // sql/grants/*.sql: the values are quoted identifiers, filled in as they are; $$ bodies are left alone.
  auto r = fill_template_variables("GRANT SELECT ON t TO ${APP}; DO $$ BEGIN PERFORM ${APP_LITERAL}; END $$",
                                   {{"APP", "\"odd\"\"name\""}, {"APP_LITERAL", "'odd\"name'"}},
                                   TemplateValueEscape::kVerbatim);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "GRANT SELECT ON t TO \"odd\"\"name\"; DO $$ BEGIN PERFORM 'odd\"name'; END $$");
}

using ProcessTest = TempDirTest;

TEST_F(ProcessTest, SpawnWritesLogAndTerminatesGracefully) {
  SpawnSpec s;
  s.argv = {"/bin/sh", "-c",
            "echo started; trap 'echo stopping; exit 0' TERM; while true; do sleep 0.05; done"};
  s.log_file = dir_ / "log" / "p.log";
  auto id = spawn(s);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_TRUE(is_running(*id));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(terminate(*id, std::chrono::seconds(5)));
  EXPECT_FALSE(is_running(*id));
  std::ifstream in(s.log_file);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("started"), std::string::npos);
  EXPECT_NE(log.find("stopping"), std::string::npos);
}

TEST_F(ProcessTest, StubbornProcessIsKilledAfterGrace) {
  SpawnSpec s;
  s.argv = {"/bin/sh", "-c", "trap '' TERM; while true; do sleep 0.05; done"};
  auto id = spawn(s);
  ASSERT_TRUE(id.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(terminate(*id, std::chrono::milliseconds(300)));
  EXPECT_FALSE(is_running(*id));
}

TEST_F(ProcessTest, MissingExecutableIsAnErrorNotAChild) {
  SpawnSpec s;
  s.argv = {"/nonexistent/binary"};
  auto id = spawn(s);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("exec"), std::string::npos) << id.error().message;
}

TEST_F(ProcessTest, PidFileRoundTripAndReusedPidIsNotOurs) {
  ProcessId self{getpid(), *process_start_ticks(getpid())};
  ASSERT_TRUE(write_pid_file(dir_ / "x.pid", self).ok());
  auto back = read_pid_file(dir_ / "x.pid");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pid, self.pid);
  EXPECT_TRUE(is_running(*back));
  // Same pid, different start time: a recycled pid must not be mistaken for ours.
  EXPECT_FALSE(is_running(ProcessId{self.pid, self.start_ticks + 1}));
  EXPECT_FALSE(read_pid_file(dir_ / "absent.pid"));
}

TEST_F(ProcessTest, RunToCompletionReportsExitCodeAndTimeout) {
  SpawnSpec s;
  s.argv = {"/bin/sh", "-c", "exit 3"};
  auto rc = run_to_completion(s, std::chrono::seconds(5));
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(*rc, 3);
  s.argv = {"/bin/sh", "-c", "sleep 10"};
  auto slow = run_to_completion(s, std::chrono::seconds(1));
  ASSERT_FALSE(slow.ok());
  EXPECT_NE(slow.error().message.find("did not finish"), std::string::npos);
}

TEST(PortsTest, FindsTheListenerOfAPort) {
  // Listen on an ephemeral port ourselves and check that the conflict message names this process.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  EXPECT_TRUE(tcp_accepts("127.0.0.1", port));
  auto owner = find_listener(port);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->pid, getpid());
  EXPECT_NE(describe_port_conflict(port).find(std::to_string(getpid())), std::string::npos);
  close(fd);
  EXPECT_FALSE(tcp_accepts("127.0.0.1", port));
}

}  // namespace
}  // namespace fp::stack
