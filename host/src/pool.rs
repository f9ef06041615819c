//! The engine and its instance pool: how many requests can run at once.
//!
//! Every in-flight request holds one component instance, and a long-poll
//! holds it for its whole wait. Spin sizes its pool with
//! `SPIN_MAX_INSTANCE_COUNT` (default 1,000), which sets the component
//! instances (`SPIN_WASMTIME_INSTANCE_COUNT` overrides only those) and the
//! memories and async stacks they need; the host takes the same variables
//! with the same meaning ([`SpinLimits`]), and without them
//! sizes the pool from the machine instead of Spin's constant, never below
//! it: what a waiting instance keeps resident (see [`RESIDENT_PER_INSTANCE`])
//! against the machine's memory, the memory mappings it needs against
//! `vm.max_map_count`, and the address space its slots reserve (the pool
//! reserves it up front; a reservation the machine refuses is retried
//! smaller). The chosen count is logged at start-up. On Spin, set
//! `SPIN_MAX_INSTANCE_COUNT` to get the same capacity.

use anyhow::{Result, anyhow};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Spin's default pool, and the least the host sizes its own to.
const SPIN_DEFAULT_INSTANCES: u32 = 1_000;

/// The most the host sizes its pool to by itself.
const MAX_MACHINE_INSTANCES: u32 = 100_000;

/// Resident memory to budget per instance, with a wide margin: measured
/// with 6,000 requests waiting at once on the probe component (bench
/// scenario `waiting-instances`), each held about 116 KiB (linear memory's
/// touched pages, async stack, store, WASI context, connection), and each
/// slot kept about 280 KiB resident once released (the pool resets the
/// first pages with memset, `linear_memory_keep_resident`, instead of
/// giving them back). edgechat's components touch more than the probe.
const RESIDENT_PER_INSTANCE: u64 = 1 << 20;

/// Share of the machine's memory that waiting instances may take.
const MEMORY_SHARE: f64 = 0.5;

/// Memory mappings per instance, rounded up: each async stack's guard page
/// splits its mapping from the start (2 per slot), and a waiting instance
/// adds about 4.2 more (its memory slot's accessible part and image, its
/// tables), measured as above.
const MAPS_PER_INSTANCE: u64 = 8;

/// Mappings left for everything else: the runtime, libraries, SQLite.
const MAPS_RESERVED: u64 = 5_000;

/// Each component instance may use this many core instances, memories and
/// tables from the pool (edgechat's components use fewer).
const CORE_INSTANCES_PER_INSTANCE: u32 = 4;
const MEMORIES_PER_INSTANCE: u32 = 2;
const TABLES_PER_INSTANCE: u32 = 2;

/// How many instances the pool holds, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSize {
    /// Component instances.
    pub instances: u32,
    /// Set by the operator (Spin variables) rather than from the machine:
    /// then with Spin's own limits on the rest of the pool.
    pub spin_limits: Option<SpinLimits>,
    /// How the count was chosen, for the log.
    pub reason: String,
}

/// The pool's other limits as Spin 3.6 and 4.0 set them
/// (`crates/core/src/lib.rs`): each from its own variable, else from
/// `SPIN_MAX_INSTANCE_COUNT` (default 1,000), not from
/// `SPIN_WASMTIME_INSTANCE_COUNT`. So raising only the latter still fails
/// every request past 1,000 memories or stacks, on Spin and here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpinLimits {
    pub memories: u32,
    pub stacks: u32,
    pub tables: u32,
    pub core_instances: u32,
}

impl PoolSize {
    /// Requests that can run at once: each takes one component instance,
    /// one memory, one async stack and two tables (edgechat's components:
    /// their own table and the one of the shim that lowers their imports).
    pub fn concurrent_requests(&self) -> u32 {
        match self.spin_limits {
            Some(spin) => self
                .instances
                .min(spin.memories)
                .min(spin.stacks)
                .min(spin.tables / 2),
            None => self.instances,
        }
    }
}

/// The engine: async host calls, epoch interruption (as in Spin, which
/// enables it too), pooling allocation sized by [`pool_size`] (falling back
/// to on-demand where the machine cannot reserve the pool's address space
/// at all).
pub fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let size = pool_size(&Machine::this_one())?;
    let mut instances = size.instances;
    loop {
        let pool = match size.spin_limits {
            Some(spin) => spin_pooling(instances, spin),
            None => pooling(instances),
        };
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        match Engine::new(&config) {
            Ok(engine) => {
                let adjusted = if instances == size.instances {
                    String::new()
                } else {
                    format!(
                        " (lowered from {}: the address space is smaller)",
                        size.instances
                    )
                };
                let concurrent = PoolSize {
                    instances,
                    ..size.clone()
                }
                .concurrent_requests();
                println!(
                    "Instance pool: {concurrent} concurrent requests{adjusted}; {}",
                    size.reason
                );
                return Ok(engine);
            }
            // The machine's address space is smaller than assumed: halve,
            // but not below what was asked for explicitly or Spin's default.
            Err(_) if size.spin_limits.is_none() && instances / 2 >= SPIN_DEFAULT_INSTANCES => {
                instances /= 2;
            }
            Err(e) => {
                eprintln!("pooling allocator unavailable ({e}); using on-demand allocation");
                config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
                return Ok(Engine::new(&config)?);
            }
        }
    }
}

fn pooling(instances: u32) -> PoolingAllocationConfig {
    let mut pool = per_slot_settings();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(CORE_INSTANCES_PER_INSTANCE))
        .total_memories(instances.saturating_mul(MEMORIES_PER_INSTANCE))
        .total_tables(instances.saturating_mul(TABLES_PER_INSTANCE))
        // Every request runs its guest on an async stack of its own.
        .total_stacks(instances);
    pool
}

/// The pool with Spin's totals, when the operator sized it with Spin's
/// variables.
fn spin_pooling(instances: u32, spin: SpinLimits) -> PoolingAllocationConfig {
    let mut pool = per_slot_settings();
    pool.total_component_instances(instances)
        .total_core_instances(spin.core_instances)
        .total_memories(spin.memories)
        .total_tables(spin.tables)
        .total_stacks(spin.stacks);
    pool
}

/// What each slot may hold and keeps resident, whoever sized the pool.
fn per_slot_settings() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    pool.max_memories_per_component(8)
        .max_tables_per_component(8)
        .max_memory_size(256 << 20)
        // Reset the first pages of each slot with memset instead of
        // madvise: a guest touches about this much per request, and
        // madvise costs a TLB shootdown across cores plus page faults next
        // time.
        .linear_memory_keep_resident(2 << 20)
        // And where the kernel can tell (PAGEMAP_SCAN, Linux 6.7+), reset
        // only the pages the guest wrote instead of the whole 2 MiB: the
        // memset of untouched pages was the largest single cost of a
        // request (18% of the host's CPU serving the static component).
        // The memory comes back the same either way.
        .pagemap_scan(Enabled::Auto)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(256 << 10);
    pool
}

/// What the pool is sized from.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `MemTotal`, in bytes.
    pub memory_bytes: Option<u64>,
    /// `vm.max_map_count`.
    pub max_map_count: Option<u64>,
    /// `SPIN_MAX_INSTANCE_COUNT` and `SPIN_WASMTIME_INSTANCE_COUNT`.
    pub spin_max_instance_count: Option<String>,
    pub spin_wasmtime_instance_count: Option<String>,
    /// `SPIN_WASMTIME_TOTAL_MEMORIES`, `_TOTAL_STACKS`, `_TOTAL_TABLES` and
    /// `_TOTAL_CORE_INSTANCES`.
    pub spin_totals: [Option<String>; 4],
}

/// The variables of [`Machine::spin_totals`], in order.
const SPIN_TOTALS: [&str; 4] = [
    "SPIN_WASMTIME_TOTAL_MEMORIES",
    "SPIN_WASMTIME_TOTAL_STACKS",
    "SPIN_WASMTIME_TOTAL_TABLES",
    "SPIN_WASMTIME_TOTAL_CORE_INSTANCES",
];

impl Machine {
    pub fn this_one() -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024);
        let max_map_count = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|text| text.trim().parse().ok());
        Machine {
            memory_bytes,
            max_map_count,
            spin_max_instance_count: std::env::var("SPIN_MAX_INSTANCE_COUNT").ok(),
            spin_wasmtime_instance_count: std::env::var("SPIN_WASMTIME_INSTANCE_COUNT").ok(),
            spin_totals: SPIN_TOTALS.map(|name| std::env::var(name).ok()),
        }
    }
}

/// How many component instances may be live at once: Spin's
/// `SPIN_WASMTIME_INSTANCE_COUNT`, which defaults to `SPIN_MAX_INSTANCE_COUNT`,
/// with the rest of the pool as Spin sizes it ([`SpinLimits`]); without
/// any of Spin's variables, sized from the machine. A request beyond it
/// fails to instantiate and answers 500, as on Spin.
pub fn pool_size(machine: &Machine) -> Result<PoolSize> {
    let parse = |name: &str, value: &Option<String>| -> Result<Option<u32>> {
        value
            .as_deref()
            .map(|v| {
                v.parse()
                    .map_err(|e| anyhow!("cannot parse {name}={v:?}: {e}"))
            })
            .transpose()
    };
    let max = parse("SPIN_MAX_INSTANCE_COUNT", &machine.spin_max_instance_count)?;
    let wasmtime = parse(
        "SPIN_WASMTIME_INSTANCE_COUNT",
        &machine.spin_wasmtime_instance_count,
    )?;
    let mut totals = [None; 4];
    for (total, (name, value)) in totals
        .iter_mut()
        .zip(SPIN_TOTALS.iter().zip(&machine.spin_totals))
    {
        *total = parse(name, value)?;
    }
    if max.is_some() || wasmtime.is_some() || totals.iter().any(Option::is_some) {
        let max = max.unwrap_or(SPIN_DEFAULT_INSTANCES);
        let [memories, stacks, tables, core_instances] = totals;
        let size = PoolSize {
            instances: wasmtime.unwrap_or(max),
            spin_limits: Some(SpinLimits {
                memories: memories.unwrap_or(max),
                stacks: stacks.unwrap_or(max),
                tables: tables.unwrap_or(max.saturating_mul(2)),
                core_instances: core_instances.unwrap_or(max.saturating_mul(4)),
            }),
            reason: String::new(),
        };
        let concurrent = size.concurrent_requests();
        let reason = if concurrent < size.instances {
            format!(
                "set by Spin's variables: SPIN_WASMTIME_INSTANCE_COUNT={} but only {concurrent} \
                 memories, async stacks or tables (SPIN_MAX_INSTANCE_COUNT, default 1000, sizes them, \
                 as on Spin): set SPIN_MAX_INSTANCE_COUNT to raise them all",
                size.instances
            )
        } else {
            "set by Spin's variables".to_string()
        };
        return Ok(PoolSize { reason, ..size });
    }
    let by_memory = machine
        .memory_bytes
        .map(|bytes| (bytes as f64 * MEMORY_SHARE) as u64 / RESIDENT_PER_INSTANCE);
    let by_maps = machine
        .max_map_count
        .map(|maps| maps.saturating_sub(MAPS_RESERVED) / MAPS_PER_INSTANCE);
    let fitting = [by_memory, by_maps]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(u64::from(SPIN_DEFAULT_INSTANCES));
    let instances = fitting.clamp(
        u64::from(SPIN_DEFAULT_INSTANCES),
        u64::from(MAX_MACHINE_INSTANCES),
    ) as u32;
    let show = |n: Option<u64>| n.map_or("unknown".to_string(), |n| n.to_string());
    Ok(PoolSize {
        instances,
        spin_limits: None,
        reason: format!(
            "sized from the machine (memory: {} MiB, room for {} waiting instances; \
             vm.max_map_count: {}, room for {}; never below Spin's default of \
             {SPIN_DEFAULT_INSTANCES}); set SPIN_MAX_INSTANCE_COUNT to choose",
            show(machine.memory_bytes.map(|b| b >> 20)),
            show(by_memory),
            show(machine.max_map_count),
            show(by_maps),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(memory_gib: u64, maps: u64) -> Machine {
        Machine {
            memory_bytes: Some(memory_gib << 30),
            max_map_count: Some(maps),
            ..Machine::default()
        }
    }

    #[test]
    fn spin_variables_win_over_the_machine() {
        let mut m = machine(24, 65_530);
        m.spin_max_instance_count = Some("50".into());
        assert_eq!(pool_size(&m).unwrap().concurrent_requests(), 50);
        m.spin_wasmtime_instance_count = Some("7".into());
        let size = pool_size(&m).unwrap();
        assert_eq!(size.concurrent_requests(), 7);
        assert!(size.spin_limits.is_some());
        m.spin_wasmtime_instance_count = Some("many".into());
        assert!(pool_size(&m).is_err());
    }

    #[test]
    fn spins_instance_count_alone_leaves_memories_and_stacks_at_spins_max() {
        let mut m = machine(24, 65_530);
        m.spin_wasmtime_instance_count = Some("6000".into());
        let size = pool_size(&m).unwrap();
        assert_eq!(size.instances, 6_000);
        assert_eq!(size.concurrent_requests(), 1_000, "as on Spin");
        assert!(
            size.reason.contains("SPIN_MAX_INSTANCE_COUNT"),
            "{}",
            size.reason
        );
        m.spin_max_instance_count = Some("6000".into());
        assert_eq!(pool_size(&m).unwrap().concurrent_requests(), 6_000);
        m.spin_max_instance_count = None;
        // Memories and stacks raised, tables left at twice Spin's max.
        m.spin_totals = [Some("6000".into()), Some("6000".into()), None, None];
        let size = pool_size(&m).unwrap();
        assert_eq!(size.spin_limits.unwrap().tables, 2_000);
        assert_eq!(size.concurrent_requests(), 1_000);
        m.spin_totals[2] = Some("12000".into());
        assert_eq!(pool_size(&m).unwrap().concurrent_requests(), 6_000);
    }

    #[test]
    fn a_large_machine_gets_a_larger_pool_than_spins_default() {
        // 2 cores and 24 GiB, as the benchmark machines: room for 6,000
        // waiting long-polls and more.
        let size = pool_size(&machine(24, 65_530)).unwrap();
        assert!(size.instances >= 6_000, "{size:?}");
        assert!(size.spin_limits.is_none());
    }

    #[test]
    fn the_smallest_limit_decides() {
        let roomy = pool_size(&machine(256, 65_530)).unwrap().instances;
        let more_maps = pool_size(&machine(256, 1_000_000)).unwrap().instances;
        assert!(more_maps > roomy, "{more_maps} vs {roomy}");
    }

    #[test]
    fn never_below_spins_default() {
        let size = pool_size(&machine(1, 10_000)).unwrap();
        assert_eq!(size.instances, SPIN_DEFAULT_INSTANCES);
        assert_eq!(pool_size(&Machine::default()).unwrap().instances, 1_000);
    }
}
