"""Simulated room impulse responses in the layout of RIRS_NOISES' ``simulated_rirs`` (pyroomacoustics ISM).

Rooms are shoeboxes sized like the RIRS_NOISES classes (small: 1-10 m, medium: 10-30 m, large: 30-50 m for
length and width; 2-5 m high). Each room gets a target RT60 drawn from its class's range, one microphone and
``rirs_per_room`` sources, and is simulated with the image-source method.

Calibration. Sabine/Eyring absorption with a uniform coefficient does not give the requested RT60 in a shoebox
simulated by images: there is no scattering, so in a flat room the rays that only hit the far walls decay much
more slowly than the Sabine average and RT60 overshoots by seconds (measured: a 40x30x4 m room asked for 1.2 s
decays in 4.7 s). Here each pair of opposite walls gets its own absorption, chosen so that sound travelling
along that axis loses energy at the same rate per metre: energy factor per reflection ``exp(-k L_axis)``, so
the energy of every image falls as ``exp(-k D)`` with ``D`` its L1 path length. The room's RT60 then follows
one parameter ``k``; the simulation is measured (Schroeder T30, ``phonsid.augment.rt60``), and ``k`` is
rescaled by measured/target until the median RT60 over the room's RIRs is within ``tolerance`` (usually one or
two simulations). Images are cut where ``exp(-k D)`` has fallen 60 dB, which sets the ISM order.

Each RIR is trimmed where its remaining energy is 60 dB below the total, scaled to a peak of 0.9 full scale and
written as 16-bit PCM (what Kaldi reads), and its measured RT60 and DRR go into the rir_list line.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from phonsid.augment.rt60 import Rt60Error, decay_length, direct_to_reverberant_ratio, measure_rt60

SPEED_OF_SOUND = 343.0
DECAY_60_DB = 6.0 * math.log(10.0)  # natural-log energy decay of 60 dB


@dataclasses.dataclass(frozen=True)
class RoomType:
    name: str
    length: tuple[float, float]
    width: tuple[float, float]
    height: tuple[float, float]
    rt60: tuple[float, float]


ROOM_TYPES = {
    "smallroom": RoomType("smallroom", (1.0, 10.0), (1.0, 10.0), (2.0, 5.0), (0.2, 0.6)),
    "mediumroom": RoomType("mediumroom", (10.0, 30.0), (10.0, 30.0), (2.0, 5.0), (0.3, 0.9)),
    "largeroom": RoomType("largeroom", (30.0, 50.0), (30.0, 50.0), (2.0, 5.0), (0.4, 1.2)),
}


class SimulationError(RuntimeError):
    """A room could not be simulated or calibrated; the message names it."""


@dataclasses.dataclass
class SimulatedRoom:
    """A calibrated room and its RIRs (float64, not yet trimmed or scaled)."""

    dims: tuple[float, float, float]
    rt60_target: float
    absorption: tuple[float, float, float]  # energy absorption of the x, y and z wall pairs
    max_order: int
    iterations: int
    mic: tuple[float, float, float]
    sources: list[tuple[float, float, float]]
    rirs: list[np.ndarray]
    rt60s: list[float]

    @property
    def rt60_measured(self) -> float:
        return float(np.median(self.rt60s))


def axis_absorption(k: float, dims: Sequence[float]) -> tuple[float, float, float]:
    """Energy absorption per wall pair so each reflection on axis ``a`` keeps ``exp(-k L_a)`` of the energy."""
    return tuple(float(min(0.999, 1.0 - math.exp(-k * d))) for d in dims)  # type: ignore[return-value]


def ism_order(k: float, dims: Sequence[float], cap: int) -> int:
    """Reflection order after which every image is 60 dB down (L1 path >= ln(10^6)/k), capped."""
    return int(max(1, min(cap, math.ceil(DECAY_60_DB / k / min(dims)))))


def simulate_shoebox(dims: Sequence[float], absorption: Sequence[float], sources: Sequence[Sequence[float]],
                     mic: Sequence[float], sample_rate: int, max_order: int) -> list[np.ndarray]:
    """ISM RIRs (one per source, at ``mic``) of a shoebox with per-axis wall absorption (no air absorption)."""
    import pyroomacoustics as pra

    ax, ay, az = absorption
    materials = pra.make_materials(west=ax, east=ax, south=ay, north=ay, floor=az, ceiling=az)
    room = pra.ShoeBox(list(dims), fs=int(sample_rate), materials=materials, max_order=int(max_order),
                       air_absorption=False)
    for s in sources:
        room.add_source(list(s))
    room.add_microphone(list(mic))
    room.compute_rir()
    return [np.asarray(room.rir[0][i], dtype=np.float64) for i in range(len(sources))]


def calibrate_room(dims: Sequence[float], rt60: float, sources: Sequence[Sequence[float]], mic: Sequence[float],
                   sample_rate: int, tolerance: float = 0.05, max_iterations: int = 6,
                   max_order: int = 100) -> SimulatedRoom:
    """Simulates the room, rescaling the absorption until the median measured RT60 is within ``tolerance``
    (relative) of ``rt60``. Raises SimulationError when it does not converge."""
    # Start from the axial decay rate that would give rt60 exactly, times the ratio seen in practice (~0.75):
    # oblique images decay faster than axial ones.
    k = 0.75 * DECAY_60_DB / (SPEED_OF_SOUND * rt60)
    best: SimulatedRoom | None = None
    for it in range(1, max_iterations + 1):
        absorption = axis_absorption(k, dims)
        order = ism_order(k, dims, max_order)
        rirs = simulate_shoebox(dims, absorption, sources, mic, sample_rate, order)
        try:
            rt60s = [measure_rt60(h, sample_rate) for h in rirs]
        except Rt60Error as e:
            raise SimulationError(f"room {tuple(round(d, 2) for d in dims)}: {e}") from None
        room = SimulatedRoom(tuple(dims), rt60, absorption, order, it, tuple(mic),  # type: ignore[arg-type]
                             [tuple(s) for s in sources], rirs, rt60s)  # type: ignore[misc]
        ratio = room.rt60_measured / rt60
        if best is None or abs(math.log(ratio)) < abs(math.log(best.rt60_measured / rt60)):
            best = room
        if abs(ratio - 1.0) <= tolerance:
            return room
        k *= ratio
    assert best is not None
    if abs(best.rt60_measured / rt60 - 1.0) <= 2 * tolerance:
        return best
    raise SimulationError(f"room {tuple(round(d, 2) for d in dims)}: RT60 {best.rt60_measured:.3f} s after "
                          f"{max_iterations} simulations, wanted {rt60:.3f} s")


def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(lo_hi[0], lo_hi[1]))


def sample_geometry(room_type: RoomType, rng: np.random.Generator, num_sources: int,
                    ) -> tuple[tuple[float, float, float], float, tuple[float, float, float], list]:
    """Room size, target RT60, microphone and source positions (>= 0.5 m from walls where the room allows,
    sources at least 0.5 m, or 30% of the room's width, from the microphone)."""
    dims = (_uniform(rng, room_type.length), _uniform(rng, room_type.width), _uniform(rng, room_type.height))
    rt60 = _uniform(rng, room_type.rt60)
    margin = [min(0.5, d / 4) for d in dims]

    def point() -> tuple[float, float, float]:
        return tuple(float(rng.uniform(m, d - m)) for m, d in zip(margin, dims))  # type: ignore[return-value]

    mic = point()
    min_dist = min(0.5, 0.3 * min(dims[0], dims[1]))
    sources = []
    for _ in range(num_sources):
        for _try in range(100):
            s = point()
            if math.dist(s, mic) >= min_dist:
                break
        sources.append(s)
    return dims, rt60, mic, sources


def finish_rir(h: np.ndarray, decay_db: float = 60.0, peak: float = 0.9 * 32767) -> np.ndarray:
    """Trimmed where ``decay_db`` of the energy is gone, scaled to ``peak`` and rounded to 16-bit values."""
    n = max(1, decay_length(h, decay_db))
    x = np.asarray(h[:n], dtype=np.float64)
    top = float(np.max(np.abs(x)))
    if top <= 0:
        raise SimulationError("the simulated RIR is silent")
    return np.clip(np.rint(x * (peak / top)), -32768, 32767).astype(np.float32)


@dataclasses.dataclass
class RirRecord:
    rir_id: str
    room_id: str
    path: str
    rt60: float
    drr: float

    def rir_list_line(self) -> str:
        return (f"--rir-id {self.rir_id} --room-id {self.room_id} --rt60 {self.rt60:.4f} --drr {self.drr:.4f} "
                f"{self.path}")


def simulate_room_type(out_dir: str | os.PathLike, room_type: RoomType, num_rooms: int, rirs_per_room: int,
                       sample_rate: int, seed: int, max_order: int = 100, tolerance: float = 0.05,
                       log=None) -> list[RirRecord]:
    """Simulates ``num_rooms`` rooms of a type into ``<out_dir>/simulated_rirs/<type>/`` (wavs, rir_list,
    room_info). A room that does not calibrate is redrawn (up to 10 times)."""
    from phonsid.io.atomic import atomic_write_text
    from phonsid.io.wav import write_wav

    type_dir = Path(out_dir) / "simulated_rirs" / room_type.name
    type_index = list(ROOM_TYPES).index(room_type.name) if room_type.name in ROOM_TYPES else 99
    records: list[RirRecord] = []
    info_lines: list[str] = []
    for r in range(1, num_rooms + 1):
        rng = np.random.default_rng([seed, type_index, r])
        room = None
        for attempt in range(10):
            dims, rt60, mic, sources = sample_geometry(room_type, rng, rirs_per_room)
            try:
                room = calibrate_room(dims, rt60, sources, mic, sample_rate, tolerance, max_order=max_order)
                break
            except SimulationError as e:
                if log is not None:
                    log.warning(f"{room_type.name} Room{r:03d}: {e}; drawing another room")
        if room is None:
            raise SimulationError(f"{room_type.name} Room{r:03d}: no room calibrated in 10 draws")
        room_name = f"Room{r:03d}"
        room_id = f"{room_type.name}-{room_name}"
        (type_dir / room_name).mkdir(parents=True, exist_ok=True)
        measured = []
        for j, h in enumerate(room.rirs, 1):
            pcm = finish_rir(h)
            rel = os.path.join(str(out_dir), "simulated_rirs", room_type.name, room_name, f"{room_name}-{j:05d}.wav")
            write_wav(type_dir / room_name / f"{room_name}-{j:05d}.wav", pcm, sample_rate)
            rt = measure_rt60(pcm, sample_rate)
            measured.append(rt)
            records.append(RirRecord(f"{room_id}-{j:05d}", room_id, rel, rt,
                                     direct_to_reverberant_ratio(pcm, sample_rate)))
        info_lines.append(json.dumps({
            "room_id": room_id, "dims": [round(d, 3) for d in room.dims], "rt60_target": round(room.rt60_target, 4),
            "rt60_measured": [round(m, 4) for m in measured], "absorption": [round(a, 4) for a in room.absorption],
            "max_order": room.max_order, "simulations": room.iterations,
            "mic": [round(v, 3) for v in room.mic], "sources": [[round(v, 3) for v in s] for s in room.sources],
        }))
        if log is not None:
            log.info(f"{room_id}: {room.dims[0]:.1f}x{room.dims[1]:.1f}x{room.dims[2]:.1f} m, RT60 target "
                     f"{room.rt60_target:.3f} s, measured {np.median(measured):.3f} s ({room.iterations} simulations, "
                     f"order {room.max_order})")
    atomic_write_text(type_dir / "rir_list", "".join(rec.rir_list_line() + "\n" for rec in records))
    atomic_write_text(type_dir / "room_info", "".join(line + "\n" for line in info_lines))
    return records


def simulate_rirs(out_dir: str | os.PathLike, room_types: Sequence[str], num_rooms: int, rirs_per_room: int,
                  sample_rate: int, seed: int = 1, max_order: int = 100, tolerance: float = 0.05,
                  log=None) -> dict[str, list[RirRecord]]:
    """Simulates each room type; a type whose rir_list was made with the same parameters is skipped."""
    from phonsid.io.atomic import atomic_write_text

    out: dict[str, list[RirRecord]] = {}
    for name in room_types:
        if name not in ROOM_TYPES:
            raise SimulationError(f"unknown room type '{name}' (known: {', '.join(ROOM_TYPES)})")
        params = json.dumps({"num_rooms": num_rooms, "rirs_per_room": rirs_per_room, "sample_rate": sample_rate,
                             "seed": seed, "max_order": max_order, "tolerance": tolerance}, sort_keys=True)
        type_dir = Path(out_dir) / "simulated_rirs" / name
        stamp = type_dir / "params.json"
        if stamp.is_file() and (type_dir / "rir_list").is_file() and stamp.read_text() == params + "\n":
            if log is not None:
                log.info(f"{type_dir}/rir_list exists with the same parameters; skipping")
            out[name] = []
            continue
        if stamp.exists():
            stamp.unlink()
        out[name] = simulate_room_type(out_dir, ROOM_TYPES[name], num_rooms, rirs_per_room, sample_rate, seed,
                                       max_order, tolerance, log)
        atomic_write_text(stamp, params + "\n")
    return out
