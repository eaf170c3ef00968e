// The Compose Specification's file format as data: which keys each mapping may hold and what each value must be. The
// facts come from compose-spec/compose-spec schema/compose-spec.json (commit 170098b, 2026-06; the spec Docker
// Compose v2 implements) plus the two keys compose-go, its reference implementation, already accepts ahead of it
// (build.no_cache_filter, pre_start). Where the JSON schema leaves a value free but the engine refuses it at `up`
// (restart, deploy.mode, restart_policy.condition, port protocols, durations, byte sizes), the value is constrained
// here too, so the file fails before the deploy does. `cast` marks the paths compose-go converts from strings after
// interpolation ("true", "3"), as interpolateTypeCastMapping lists them.

export type Shape =
  | { kind: "string"; values?: readonly string[]; pattern?: RegExp; expect?: string }
  | { kind: "number"; integer?: boolean; min?: number; max?: number }
  | { kind: "boolean" }
  | { kind: "null" }
  | { kind: "any" }
  | ObjectShape
  | { kind: "array"; items: Shape; unique?: boolean }
  | { kind: "oneOf"; options: readonly Shape[] }
  | { kind: "cast"; to: "boolean" | "integer" | "number"; inner: Shape };

export interface ObjectShape {
  kind: "object";
  properties: Readonly<Record<string, Shape>>;
  required?: readonly string[];
  /** Whether `x-*` keys are allowed (extension fields). */
  extensions: boolean;
  /** The shape of keys not in `properties` (a map of names); absent = such keys are unknown. */
  additional?: Shape;
  /** What the free keys must look like (service names, ulimit names). */
  keys?: { pattern: RegExp; expect: string };
  /** What the mapping is, for messages ("a service", "a healthcheck"). */
  what?: string;
}

const str = (options: Omit<Extract<Shape, { kind: "string" }>, "kind"> = {}): Shape => ({
  kind: "string",
  ...options,
});
const values = (...allowed: string[]): Shape => ({ kind: "string", values: allowed });
const num: Shape = { kind: "number" };
const int: Shape = { kind: "number", integer: true };
const bool: Shape = { kind: "boolean" };
const nil: Shape = { kind: "null" };
const anything: Shape = { kind: "any" };
const oneOf = (...options: Shape[]): Shape => ({ kind: "oneOf", options });
const list = (items: Shape, unique = false): Shape => ({
  kind: "array",
  items,
  ...(unique ? { unique } : {}),
});
const cast = (to: "boolean" | "integer" | "number", inner: Shape): Shape => ({ kind: "cast", to, inner });
function obj(
  properties: Record<string, Shape>,
  options: Partial<Omit<ObjectShape, "kind" | "properties">> = {},
): ObjectShape {
  return { kind: "object", properties, extensions: true, ...options };
}
function map(value: Shape, keys?: ObjectShape["keys"], what?: string): ObjectShape {
  return {
    kind: "object",
    properties: {},
    extensions: false,
    additional: value,
    ...(keys ? { keys } : {}),
    ...(what ? { what } : {}),
  };
}

const NAME_KEYS = { pattern: /^[a-zA-Z0-9._-]+$/, expect: "letters, digits, '.', '_' and '-' only" };

/** Go durations as compose-go reads them (str2duration: also d and w), e.g. 30s, 1m30s, 1.5h. */
export const DURATION = /^(?:0|(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h|d|w))+$/;
const duration = str({ pattern: DURATION, expect: "a duration such as 30s or 1m30s" });
/** docker/go-units RAMInBytes, or a plain number of bytes (-1 = unlimited where allowed). */
const BYTES = /^(?:-?\d+|\d+(?:\.\d+)* ?[kKmMgGtTpP]?[iI]?[bB]?)$/;
const bytes = str({ pattern: BYTES, expect: "a size such as 512m or 2g" });
const boolOrString = (path: "cast" | "plain" = "cast") =>
  path === "cast" ? cast("boolean", oneOf(bool, str())) : oneOf(bool, str());
const intOrString = oneOf(int, str());
const numOrString = oneOf(num, str());

const listOfStrings = list(str(), true);
const stringOrList = oneOf(str(), listOfStrings);
const listOrDict = oneOf(
  map(oneOf(str(), num, bool, nil), { pattern: /.+/, expect: "a name" }),
  list(str(), true),
);
const extraHosts = oneOf(map(oneOf(str(), list(str()))), list(str(), true));
const command = oneOf(nil, str(), list(str()));
const ulimits = map(
  oneOf(
    cast("integer", intOrString),
    obj({ hard: intOrString, soft: intOrString }, { required: ["soft", "hard"] }),
  ),
  { pattern: /^[a-z]+$/, expect: "a lower-case ulimit name such as nofile" },
);
const serviceConfigOrSecret = list(
  oneOf(str(), obj({ source: str(), target: str(), uid: str(), gid: str(), mode: numOrString })),
);
const envFile = oneOf(
  str(),
  list(
    oneOf(
      str(),
      obj(
        { path: str(), format: str(), required: boolOrString("plain") },
        { required: ["path"], extensions: false },
      ),
    ),
  ),
);
const serviceHook = obj(
  { command, user: str(), privileged: boolOrString("plain"), working_dir: str(), environment: listOrDict },
  { required: ["command"], what: "a hook" },
);
const deviceRequest = {
  capabilities: listOfStrings,
  count: oneOf(str(), int),
  device_ids: listOfStrings,
  driver: str(),
  options: listOrDict,
};
const blkioLimit = obj({ path: str(), rate: intOrString }, { extensions: false });
const blkioWeight = obj({ path: str(), weight: intOrString }, { extensions: false });
const external = oneOf(bool, str(), obj({ name: str() }));
const castExternal = cast("boolean", external);
const driverOpts = map(oneOf(str(), num));

const build = oneOf(
  str(),
  obj(
    {
      context: str(),
      dockerfile: str(),
      dockerfile_inline: str(),
      entitlements: list(str()),
      args: listOrDict,
      ssh: listOrDict,
      labels: listOrDict,
      cache_from: list(str()),
      cache_to: list(str()),
      no_cache: boolOrString("plain"),
      // compose-go accepts it ahead of the spec.
      no_cache_filter: stringOrList,
      additional_contexts: listOrDict,
      network: str(),
      provenance: oneOf(str(), bool),
      sbom: oneOf(str(), bool),
      pull: boolOrString("plain"),
      target: str(),
      shm_size: oneOf(int, bytes),
      extra_hosts: extraHosts,
      isolation: str(),
      privileged: boolOrString("plain"),
      secrets: serviceConfigOrSecret,
      tags: list(str()),
      ulimits,
      platforms: list(str()),
    },
    { what: "a build" },
  ),
);

const dependsOn = oneOf(
  listOfStrings,
  map(
    obj(
      {
        restart: cast("boolean", oneOf(bool, str())),
        required: cast("boolean", bool),
        condition: values("service_started", "service_healthy", "service_completed_successfully"),
      },
      { required: ["condition"], what: "a dependency" },
    ),
    NAME_KEYS,
  ),
);

const healthcheck = obj(
  {
    disable: boolOrString(),
    interval: duration,
    retries: cast("integer", numOrString),
    test: oneOf(str(), list(str())),
    timeout: duration,
    start_period: duration,
    start_interval: duration,
  },
  { what: "a healthcheck" },
);

const development = oneOf(
  nil,
  obj(
    {
      watch: list(
        obj(
          {
            ignore: stringOrList,
            include: stringOrList,
            path: str(),
            action: values("rebuild", "sync", "restart", "sync+restart", "sync+exec"),
            target: str(),
            exec: serviceHook,
            initial_sync: bool,
          },
          { required: ["path", "action"], what: "a watch rule" },
        ),
      ),
    },
    { what: "develop" },
  ),
);

const updateConfig = (failureActions: string[]) =>
  obj({
    parallelism: cast("integer", intOrString),
    delay: duration,
    failure_action: values(...failureActions),
    monitor: duration,
    max_failure_ratio: cast("number", numOrString),
    order: values("start-first", "stop-first"),
  });

const deployment = oneOf(
  nil,
  obj(
    {
      mode: values("replicated", "global", "replicated-job", "global-job"),
      endpoint_mode: values("vip", "dnsrr"),
      replicas: cast("integer", intOrString),
      labels: listOrDict,
      rollback_config: updateConfig(["continue", "pause"]),
      update_config: updateConfig(["continue", "pause", "rollback"]),
      resources: obj({
        limits: obj({ cpus: numOrString, memory: bytes, pids: intOrString }),
        reservations: obj({
          cpus: numOrString,
          memory: bytes,
          generic_resources: list(obj({ discrete_resource_spec: obj({ kind: str(), value: numOrString }) })),
          devices: list(obj(deviceRequest, { required: ["capabilities"] })),
        }),
      }),
      restart_policy: obj({
        condition: values("none", "on-failure", "any"),
        delay: duration,
        max_attempts: cast("integer", intOrString),
        window: duration,
      }),
      placement: obj({
        constraints: list(str()),
        preferences: list(obj({ spread: str() })),
        max_replicas_per_node: cast("integer", intOrString),
      }),
    },
    { what: "deploy" },
  ),
);

const port = oneOf(
  num,
  str(),
  obj({
    name: str(),
    mode: values("host", "ingress"),
    host_ip: str(),
    target: cast("integer", intOrString),
    published: oneOf(str(), int),
    protocol: values("tcp", "udp", "sctp"),
    app_protocol: str(),
  }),
);

const volumeMount = oneOf(
  str(),
  obj(
    {
      type: values("bind", "volume", "tmpfs", "cluster", "npipe", "image"),
      source: str(),
      target: str(),
      read_only: boolOrString(),
      consistency: str(),
      bind: obj({
        propagation: values("shared", "slave", "private", "rshared", "rslave", "rprivate"),
        create_host_path: boolOrString("plain"),
        recursive: values("enabled", "disabled", "writable", "readonly"),
        selinux: values("z", "Z"),
      }),
      volume: obj({ labels: listOrDict, nocopy: boolOrString(), subpath: str() }),
      tmpfs: obj({ size: oneOf(int, bytes), mode: numOrString }),
      image: obj({ subpath: str() }),
    },
    { required: ["type"], what: "a volume mount" },
  ),
);

const serviceNetworks = oneOf(
  listOfStrings,
  map(
    oneOf(
      obj({
        aliases: listOfStrings,
        interface_name: str(),
        ipv4_address: str(),
        ipv6_address: str(),
        link_local_ips: listOfStrings,
        mac_address: str(),
        driver_opts: driverOpts,
        priority: num,
        gw_priority: num,
      }),
      nil,
    ),
    NAME_KEYS,
  ),
);

/** docker run --restart: no, always, unless-stopped, on-failure[:max-retries]. */
export const RESTART = /^(?:no|always|unless-stopped|on-failure(?::\d+)?)$/;

export const SERVICE: ObjectShape = obj(
  {
    develop: development,
    deploy: deployment,
    annotations: listOrDict,
    attach: boolOrString("plain"),
    build,
    blkio_config: obj(
      {
        device_read_bps: list(blkioLimit),
        device_read_iops: list(blkioLimit),
        device_write_bps: list(blkioLimit),
        device_write_iops: list(blkioLimit),
        weight: intOrString,
        weight_device: list(blkioWeight),
      },
      { extensions: false },
    ),
    cap_add: list(str(), true),
    cap_drop: list(str(), true),
    cgroup: values("host", "private"),
    cgroup_parent: str(),
    command,
    configs: serviceConfigOrSecret,
    container_name: str({
      pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
      expect: "a container name (letters, digits, _ . -)",
    }),
    cpu_count: cast("integer", oneOf(str(), { kind: "number", integer: true, min: 0 })),
    cpu_percent: cast("number", oneOf(str(), { kind: "number", integer: true, min: 0, max: 100 })),
    cpu_shares: cast("integer", numOrString),
    cpu_quota: cast("integer", numOrString),
    cpu_period: cast("integer", numOrString),
    cpu_rt_period: cast("integer", numOrString),
    cpu_rt_runtime: cast("integer", numOrString),
    cpus: cast("number", numOrString),
    cpuset: str(),
    credential_spec: obj({ config: str(), file: str(), registry: str() }),
    depends_on: dependsOn,
    device_cgroup_rules: listOfStrings,
    devices: list(
      oneOf(str(), obj({ source: str(), target: str(), permissions: str() }, { required: ["source"] })),
    ),
    dns: stringOrList,
    dns_opt: list(str(), true),
    dns_search: stringOrList,
    domainname: str(),
    entrypoint: command,
    env_file: envFile,
    label_file: oneOf(str(), list(str())),
    environment: listOrDict,
    expose: list(oneOf(str(), num), true),
    extends: oneOf(str(), obj({ service: str(), file: str() }, { required: ["service"], extensions: false })),
    provider: obj(
      {
        type: str(),
        options: map(oneOf(str(), num, bool, list(oneOf(str(), num, bool))), {
          pattern: /.+/,
          expect: "a name",
        }),
      },
      { required: ["type"] },
    ),
    external_links: list(str(), true),
    extra_hosts: extraHosts,
    gpus: oneOf(values("all"), list(obj(deviceRequest, { additional: anything }))),
    group_add: list(oneOf(str(), num), true),
    healthcheck,
    hostname: str(),
    image: str(),
    init: boolOrString(),
    ipc: str(),
    isolation: str(),
    labels: listOrDict,
    links: list(str(), true),
    logging: obj({
      driver: str(),
      options: map(oneOf(str(), num, nil), { pattern: /.+/, expect: "a name" }),
    }),
    mac_address: str(),
    mem_limit: oneOf(num, bytes),
    mem_reservation: oneOf(int, bytes),
    mem_swappiness: intOrString,
    memswap_limit: oneOf(num, bytes),
    network_mode: str(),
    models: oneOf(listOfStrings, map(oneOf(obj({ endpoint_var: str(), model_var: str() }), nil), NAME_KEYS)),
    networks: serviceNetworks,
    oom_kill_disable: boolOrString(),
    oom_score_adj: cast("integer", oneOf(str(), { kind: "number", integer: true, min: -1000, max: 1000 })),
    pid: oneOf(str(), nil),
    pids_limit: cast("integer", numOrString),
    platform: str(),
    ports: list(port, true),
    post_start: list(serviceHook),
    pre_stop: list(serviceHook),
    // compose-go accepts it ahead of the spec (init containers).
    pre_start: list(
      obj({
        command,
        image: str(),
        user: str(),
        privileged: boolOrString("plain"),
        working_dir: str(),
        environment: listOrDict,
        per_replica: boolOrString("plain"),
      }),
    ),
    privileged: boolOrString(),
    profiles: listOfStrings,
    pull_policy: str({
      pattern:
        /^(?:always|never|build|if_not_present|missing|refresh|daily|weekly|every_(?:[0-9]+[wdhms])+)$/,
      expect: "always, never, missing, build, daily, weekly or every_<duration>",
    }),
    pull_refresh_after: str(),
    read_only: boolOrString(),
    restart: str({ pattern: RESTART, expect: '"no", always, on-failure[:N] or unless-stopped' }),
    runtime: str(),
    scale: cast("integer", intOrString),
    security_opt: list(str(), true),
    shm_size: oneOf(num, bytes),
    secrets: serviceConfigOrSecret,
    sysctls: listOrDict,
    stdin_open: boolOrString(),
    stop_grace_period: duration,
    stop_signal: str(),
    storage_opt: obj({}, { additional: anything, extensions: false }),
    tmpfs: stringOrList,
    tty: boolOrString(),
    ulimits,
    use_api_socket: bool,
    user: str(),
    uts: str(),
    userns_mode: str(),
    volumes: list(volumeMount, true),
    volumes_from: list(str(), true),
    working_dir: str(),
  },
  { what: "a service" },
);

const include = oneOf(
  str(),
  obj(
    { path: stringOrList, env_file: stringOrList, project_directory: str() },
    { extensions: false, what: "an include" },
  ),
);

const network = oneOf(
  nil,
  obj(
    {
      name: str(),
      driver: str(),
      driver_opts: driverOpts,
      ipam: obj({
        driver: str(),
        config: list(
          obj({
            subnet: str(),
            ip_range: str(),
            gateway: str(),
            aux_addresses: map(str(), { pattern: /.+/, expect: "a name" }),
          }),
        ),
        options: map(str(), { pattern: /.+/, expect: "a name" }),
      }),
      external: castExternal,
      internal: boolOrString(),
      enable_ipv4: boolOrString(),
      enable_ipv6: boolOrString(),
      attachable: boolOrString(),
      labels: listOrDict,
    },
    { what: "a network" },
  ),
);

const volume = oneOf(
  nil,
  obj(
    { name: str(), driver: str(), driver_opts: driverOpts, external: castExternal, labels: listOrDict },
    { what: "a volume" },
  ),
);

const secret = obj(
  {
    name: str(),
    environment: str(),
    file: str(),
    external: cast("boolean", oneOf(bool, str(), obj({ name: str() }, { additional: anything }))),
    labels: listOrDict,
    driver: str(),
    driver_opts: driverOpts,
    template_driver: str(),
  },
  { what: "a secret" },
);

const config = obj(
  {
    name: str(),
    content: str(),
    environment: str(),
    file: str(),
    external: cast("boolean", oneOf(bool, str(), obj({ name: str() }, { additional: anything }))),
    labels: listOrDict,
    template_driver: str(),
  },
  { what: "a config" },
);

const model = obj(
  { name: str(), model: str(), context_size: int, runtime_flags: list(str()) },
  { required: ["model"], what: "a model" },
);

/** The whole file. `version` is obsolete (compose ignores it and warns) but still allowed. */
export const COMPOSE_FILE: ObjectShape = obj(
  {
    version: str(),
    name: str({
      pattern: /^[a-z0-9][a-z0-9_-]*$/,
      expect: "lower-case letters, digits, '_' and '-', starting with a letter or digit",
    }),
    include: list(include),
    services: map(SERVICE, NAME_KEYS, "services"),
    models: map(model, NAME_KEYS, "models"),
    networks: map(network, NAME_KEYS, "networks"),
    volumes: map(volume, NAME_KEYS, "volumes"),
    secrets: map(secret, NAME_KEYS, "secrets"),
    configs: map(config, NAME_KEYS, "configs"),
  },
  { what: "a compose file" },
);
