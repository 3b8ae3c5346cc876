"""The simulation core: an independent, exact, step-by-step replay of the pinned semantics.

Plain Python on ``fractions.Fraction``; it imports nothing outside ``checker.sim`` and the
standard library (no z3, no lark). The PEP 316 contracts sit on small integer kernels
(``later``, ``stretch``, ``exposed``, ``track``, ``track_rates``, ``hold_track``, ``store``, ``energy_units``, ``toward``,
``broadcast_round``, ``start``, ``uniform_makespan``) that CrossHair checks; the Fraction-level API scales values onto a
common denominator and calls them.
"""

from importlib import import_module

# Where each name of the package lives. A module is imported on the first use of one of its
# names (PEP 562), so a cold `verify` of a radiator loads the radiator's modules, not the
# transformer's or the serving model's.
_HOME = {
    **dict.fromkeys(('Transfer', 'binomial_rounds', 'broadcast_round', 'hierarchical_allreduce', 'ring_allreduce', 'ring_holdings', 'ring_schedule', 'tree_allreduce'), 'collectives'),
    **dict.fromkeys(('double_tree', 'double_tree_allreduce', 'fastest', 'halving_doubling_allreduce', 'halving_doubling_holdings', 'in_network_allreduce', 'switch_levels'), 'algorithms'),
    **dict.fromkeys(('in_network_reduce_scatter', 'pairwise_all_to_all', 'pairwise_partners', 'ring_all_to_all', 'ring_reduce_scatter', 'two_level_all_to_all', 'two_level_reduce_scatter'), 'exchanges'),
    **dict.fromkeys(('serving_throughput',), 'inference'),
    **dict.fromkeys(('TierSpec', 'tiered_allreduce'), 'tiers'),
    **dict.fromkeys(('Breakdown', 'Device', 'Link', 'allreduce_time', 'gather_time', 'megatron_step', 'model_flops'), 'megatron'),
    **dict.fromkeys(('Schedule', 'run_schedule', 'schedule_order', 'simulate_pipeline', 'start', 'uniform_makespan'), 'pipeline'),
    **dict.fromkeys(('Segment', 'average_power', 'energy', 'energy_units', 'gpu_max_slew', 'gpu_slew_trace', 'gpu_step_segments', 'gpu_swing', 'gpu_swing_trace', 'merge_traces', 'site_ramp', 'site_step_segments', 'site_swing', 'smooth', 'track'), 'power'),
    **dict.fromkeys(('ALBEDO', 'EARTH_IR', 'GRID', 'SOLAR', 'STEFAN_BOLTZMANN', 'absorbed_flux', 'area_for', 'radiated_power', 'temperature_for', 'toward', 'transient'), 'radiator'),
    **dict.fromkeys(('StorageStep', 'storage_step', 'store'), 'storage'),
    **dict.fromkeys(('eclipse_bounds', 'explicit_ceil', 'explicit_floor', 'greatest_within', 'least_reaching', 'steady_bounds'), 'eclipse'),
    **dict.fromkeys(('hold_track', 'max_slews', 'slew_traces', 'track_rates', 'wait_drop'), 'smoothing'),
    **dict.fromkeys(('StageGroup', 'staged_ramp', 'staged_trace'), 'jobstart'),
    **dict.fromkeys(('band_harmonics', 'band_peak', 'harmonic', 'outward', 'pi_interval', 'turn'), 'oscillation'),
    **dict.fromkeys(('Layout', 'Model', 'attention_flops', 'in_flight_chunks', 'layer_activations', 'layer_bytes', 'layer_flops', 'layer_params', 'logit_flops', 'score_bytes', 'state_bytes_per_param'), 'transformer'),
    **dict.fromkeys(('Inference', 'Training', 'WorkloadSpec'), 'jobs'),
    **dict.fromkeys(('YEAR', 'LeaseSpec', 'Ledger', 'Leased', 'book'), 'lease'),
    **dict.fromkeys(('MAX_STEPS', 'Experts', 'ExpertShape', 'Replica', 'Serving', 'ServingSpec', 'layer_weights'), 'serving'),
    **dict.fromkeys(('Shape', 'TransformerSpec', 'TransformerTraining'), 'transformer_job'),
    **dict.fromkeys(('ExpertTraining', 'domain_partners'), 'experts_training'),
    **dict.fromkeys(('Disaggregated',), 'disaggregated'),
    **dict.fromkeys(('MAX_RING', 'TICKS', 'Cluster', 'ClusterSpec', 'GpuSpec', 'NetworkSpec', 'OutOfReach', 'PoolSpec', 'PowerSpec'), 'scenario'),
    **dict.fromkeys(('Radiator', 'RadiatorSpec'), 'panel'),
    **dict.fromkeys(('Cohort', 'Step', 'barrier', 'exposed', 'gpu_finish_times', 'later', 'simulate_training', 'stretch', 'training_step', 'work_per_gpu'), 'training'),
}

__all__ = [
    "Transfer", "ring_allreduce", "tree_allreduce", "hierarchical_allreduce", "ring_schedule",
    "ring_holdings", "binomial_rounds", "broadcast_round",
    "double_tree", "double_tree_allreduce", "halving_doubling_allreduce", "halving_doubling_holdings",
    "switch_levels", "in_network_allreduce", "fastest",
    "ring_reduce_scatter", "two_level_reduce_scatter", "in_network_reduce_scatter", "pairwise_all_to_all",
    "pairwise_partners", "ring_all_to_all", "two_level_all_to_all", "TierSpec", "tiered_allreduce",
    "Cohort", "Step", "work_per_gpu", "gpu_finish_times", "barrier", "training_step",
    "simulate_training", "later", "stretch", "exposed",
    "serving_throughput",
    "Segment", "gpu_step_segments", "merge_traces", "site_step_segments", "energy",
    "average_power", "smooth", "gpu_swing_trace", "gpu_swing", "gpu_slew_trace",
    "gpu_max_slew", "site_swing", "site_ramp", "track", "energy_units",
    "track_rates", "hold_track", "slew_traces", "max_slews", "wait_drop",
    "store", "StorageStep", "storage_step",
    "eclipse_bounds", "explicit_floor", "explicit_ceil", "least_reaching", "greatest_within", "steady_bounds",
    "StageGroup", "staged_trace", "staged_ramp",
    "outward", "pi_interval", "turn", "harmonic", "band_harmonics", "band_peak",
    "STEFAN_BOLTZMANN", "GRID", "radiated_power", "area_for", "temperature_for", "transient",
    "toward", "SOLAR", "ALBEDO", "EARTH_IR", "absorbed_flux",
    "Model", "Layout", "layer_params", "layer_flops", "attention_flops", "logit_flops",
    "layer_bytes", "score_bytes", "layer_activations", "state_bytes_per_param",
    "in_flight_chunks", "Schedule", "schedule_order", "run_schedule", "simulate_pipeline",
    "start", "uniform_makespan", "Device", "Link", "Breakdown", "megatron_step", "model_flops",
    "allreduce_time", "gather_time",
    "OutOfReach", "MAX_RING", "TICKS", "RadiatorSpec", "Radiator", "GpuSpec", "PoolSpec",
    "NetworkSpec", "PowerSpec", "ClusterSpec", "Cluster", "WorkloadSpec", "Training", "Inference",
    "Shape", "TransformerSpec", "TransformerTraining",
    "YEAR", "LeaseSpec", "Ledger", "Leased", "book", "MAX_STEPS", "Replica", "Serving", "ServingSpec", "Experts", "ExpertShape", "layer_weights",
    "ExpertTraining", "domain_partners", "Disaggregated",
]


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        try:  # a module of the package (sim.scenario), as an eager import would have set it
            return import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the module exists and fails to import: not a missing name
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later uses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
