/* test_resource.c — static fields: env overrides, OTEL_* parsing, cgroup and
 * mountinfo parsing from sample text, set/generation, pid after fork. Each
 * case runs in its own process, so detection starts fresh every time. */
#include "ctx_impl.h"
#include "resource_detect.h"
#include "test.h"
#include "trail.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(defaults) {
    unsetenv("TRAIL_ENV");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    unsetenv("TRAIL_SERVICE");
    unsetenv("OTEL_SERVICE_NAME");
    const trail_resource *r = trail_resource_get();
    CHECK(r && r->service && r->version && r->machine_id && r->container_id && r->region && r->env && r->hostname);
    CHECK_STR(r->env, "production");
    CHECK(r->service[0] != '\0'); /* program name */
    CHECK(r->machine_id[0] != '\0');
    CHECK_INT(r->pid, ==, getpid());
}

TEST(trail_env_overrides) {
    setenv("TRAIL_SERVICE", "svc-env", 1);
    setenv("TRAIL_VERSION", "1.2.3", 1);
    setenv("TRAIL_MACHINE_ID", "m-1", 1);
    setenv("TRAIL_CONTAINER_ID", "c-1", 1);
    setenv("TRAIL_REGION", "eu-west-1", 1);
    setenv("TRAIL_ENV", "staging", 1);
    setenv("OTEL_SERVICE_NAME", "otel-name", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=9,cloud.region=us-east-1,deployment.environment=dev", 1);
    trail__resource_init("from-code");
    const trail_resource *r = trail_resource_get();
    CHECK_STR(r->service, "svc-env");
    CHECK_STR(r->version, "1.2.3");
    CHECK_STR(r->machine_id, "m-1");
    CHECK_STR(r->container_id, "c-1");
    CHECK_STR(r->region, "eu-west-1");
    CHECK_STR(r->env, "staging");
}

TEST(otel_env) {
    unsetenv("TRAIL_SERVICE");
    unsetenv("TRAIL_VERSION");
    unsetenv("TRAIL_REGION");
    unsetenv("TRAIL_ENV");
    setenv("OTEL_SERVICE_NAME", "otel-name", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES",
           " service.name = attr-name , service.version=2.0%2Bbuild.7,cloud.region=us-east-1,"
           "deployment.environment=qa%20env,host.name=box-1",
           1);
    const trail_resource *r = trail_resource_get();
    CHECK_STR(r->service, "otel-name"); /* OTEL_SERVICE_NAME beats service.name */
    CHECK_STR(r->version, "2.0+build.7");
    CHECK_STR(r->region, "us-east-1");
    CHECK_STR(r->env, "qa env");
    CHECK_STR(r->hostname, "box-1");
}

TEST(otel_attrs_service_name_and_init_argument) {
    unsetenv("TRAIL_SERVICE");
    unsetenv("OTEL_SERVICE_NAME");
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=attr-name", 1);
    trail__resource_init("from-code");
    CHECK_STR(trail_resource_get()->service, "attr-name");
}

TEST(init_argument_when_no_env) {
    unsetenv("TRAIL_SERVICE");
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    const trail_resource *r = trail_resource_get(); /* detection before init */
    uint32_t g = trail__resource_generation();
    trail__resource_init("from-code");
    CHECK_STR(r->service, "from-code");
    CHECK(trail__resource_generation() != g);
    trail__resource_init(NULL); /* idempotent */
    CHECK_STR(r->service, "from-code");
}

TEST(malformed_otel_attrs_are_discarded) {
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("TRAIL_SERVICE");
    unsetenv("TRAIL_REGION");
    setenv("OTEL_RESOURCE_ATTRIBUTES", "cloud.region=x,broken,service.name=y", 1);
    const trail_resource *r = trail_resource_get();
    CHECK_STR(r->region, "");
    CHECK(strcmp(r->service, "y") != 0);
}

TEST(otel_attr_parser) {
    char out[32];
    CHECK_INT(trail__otel_attr_get("a=1,b=2", "b", out, sizeof out), ==, 1);
    CHECK_STR(out, "2");
    CHECK_INT(trail__otel_attr_get("a=1,b=2", "c", out, sizeof out), ==, -ENOENT);
    CHECK_INT(trail__otel_attr_get("a=1,a=3", "a", out, sizeof out), ==, 1);
    CHECK_STR(out, "3"); /* last wins */
    CHECK_INT(trail__otel_attr_get("k=%41%42%2c%3D", "k", out, sizeof out), ==, 4);
    CHECK_STR(out, "AB,=");
    CHECK_INT(trail__otel_attr_get("k=v,,", "k", out, sizeof out), ==, 1);
    CHECK_INT(trail__otel_attr_get("k=", "k", out, sizeof out), ==, 0);
    CHECK_INT(trail__otel_attr_get("k=%4", "k", out, sizeof out), ==, -EINVAL);
    CHECK_INT(trail__otel_attr_get("k=%zz", "k", out, sizeof out), ==, -EINVAL);
    CHECK_INT(trail__otel_attr_get("k=v,=x", "k", out, sizeof out), ==, -EINVAL);
    CHECK_INT(trail__otel_attr_get("k=v,noequals", "k", out, sizeof out), ==, -EINVAL);
    CHECK_INT(trail__otel_attr_get("k=0123456789", "k", out, 5), ==, -ERANGE);
    CHECK_INT(trail__otel_attr_get(NULL, "k", out, sizeof out), ==, -ENOENT);
}

#define ID "3f4b2a1c9d8e7f60a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2"

TEST(cgroup_v1_docker) {
    const char *t = "12:perf_event:/docker/" ID "\n11:memory:/docker/" ID "\n0::/\n";
    char out[65];
    CHECK_INT(trail__container_id_from_cgroup(t, strlen(t), out), ==, 1);
    CHECK_STR(out, ID);
}

TEST(cgroup_patterns) {
    static const char *samples[] = {
        "0::/system.slice/docker-" ID ".scope\n",
        "11:cpu:/kubepods/burstable/pod1f2e3d4c-0000-1111-2222-333344445555/" ID "\n",
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_0000.slice/cri-containerd-" ID
        ".scope\n",
        "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podabc.slice/crio-" ID ".scope\n",
        "0::/machine.slice/libpod-" ID ".scope/container\n",
        "1:name=systemd:/ecs/5a7d7c0d1e2f/" ID "\n",
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        char out[65] = "";
        if (!trail__container_id_from_cgroup(samples[i], strlen(samples[i]), out) || strcmp(out, ID) != 0)
            test__fail(__FILE__, __LINE__, "sample %zu: got [%s]", i, out);
    }
}

TEST(cgroup_not_in_container) {
    static const char *samples[] = {
        "0::/\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "12:memory:/system.slice/" ID "\n", /* a hex run without a container runtime marker */
        "0::/docker/" "3f4b2a1c9d8e7f60a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f\n", /* 63 hex */
        "garbage without colons docker " ID "\n",
        "",
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        char out[65] = "";
        if (trail__container_id_from_cgroup(samples[i], strlen(samples[i]), out))
            test__fail(__FILE__, __LINE__, "sample %zu: found [%s]", i, out);
    }
}

TEST(mountinfo_patterns) {
    const char *docker =
        "736 735 0:58 / / rw,relatime master:295 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X\n"
        "745 736 254:1 /var/lib/docker/containers/" ID "/resolv.conf /etc/resolv.conf rw,relatime - ext4 "
        "/dev/vda1 rw\n"
        "746 736 254:1 /var/lib/docker/containers/" ID "/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n";
    const char *podman = "1 0 0:1 /containers/storage/overlay-containers/" ID
                         "/userdata/hostname /etc/hostname rw - tmpfs tmpfs rw\n";
    const char *host = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                       "23 22 0:5 / /dev rw - devtmpfs udev rw\n";
    char out[65];
    CHECK_INT(trail__container_id_from_mountinfo(docker, strlen(docker), out), ==, 1);
    CHECK_STR(out, ID);
    CHECK_INT(trail__container_id_from_mountinfo(podman, strlen(podman), out), ==, 1);
    CHECK_STR(out, ID);
    CHECK_INT(trail__container_id_from_mountinfo(host, strlen(host), out), ==, 0);
}

TEST(machine_id_text) {
    char out[33];
    CHECK_INT(trail__machine_id_from_text("0123456789ABCDEF0123456789abcdef\n", 33, out), ==, 1);
    CHECK_STR(out, "0123456789abcdef0123456789abcdef");
    CHECK_INT(trail__machine_id_from_text("uninitialized\n", 14, out), ==, 0);
    CHECK_INT(trail__machine_id_from_text("", 0, out), ==, 0);
}

TEST(set_overrides_and_bumps_generation) {
    const trail_resource *r = trail_resource_get();
    uint32_t g = trail__resource_generation();
    CHECK_INT(trail_resource_set("region", "ap-south-1"), ==, 0);
    CHECK_STR(r->region, "ap-south-1");
    CHECK(trail__resource_generation() != g);
    CHECK_INT(trail_resource_set("service", "pinned"), ==, 0);
    trail__resource_init("from-code"); /* an explicit set wins over the init argument */
    CHECK_STR(r->service, "pinned");
    CHECK_INT(trail_resource_set("nope", "x"), ==, -EINVAL);
    CHECK_CONTAINS(trail_last_error(), "unknown key");
    CHECK_INT(trail_resource_set(NULL, "x"), ==, -EINVAL);
    CHECK_INT(trail_resource_set("env", NULL), ==, -EINVAL);
}

TEST(pid_refreshed_after_fork) {
    const trail_resource *r = trail_resource_get();
    uint32_t g = trail__resource_generation();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The atfork handler refreshed pid and bumped the generation. */
        int ok = r->pid == getpid() && trail__resource_generation() != g;
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_INT(r->pid, ==, getpid());
}
