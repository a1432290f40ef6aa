#!/usr/bin/env python3
"""Simulates shoebox-room RIRs with pyroomacoustics, calibrated to their RT60, in the RIRS_NOISES layout:
<out-dir>/simulated_rirs/<room-type>/{rir_list,room_info,RoomNNN/RoomNNN-MMMMM.wav}."""

from __future__ import annotations

import sys
import time

from phonsid.augment.rirsim import ROOM_TYPES, SimulationError, simulate_rirs
from phonsid.cli import KaldiOptionParser, get_logger

USAGE = f"""Simulates room impulse responses (image method, per-wall absorption calibrated so the measured RT60 is
within --tolerance of the one drawn for each room), trimmed at -60 dB decay, 16-bit wavs at --sample-rate.
Usage: local/simulate_rirs.py [options] <out-dir>
e.g. local/simulate_rirs.py --sample-rate 8000 --num-rooms 5 --rirs-per-room 4 data/local/sim_rirs
  -> data/local/sim_rirs/simulated_rirs/smallroom/rir_list, .../mediumroom/rir_list
Room types: {', '.join(f'{t.name} ({t.length[0]:g}-{t.length[1]:g} m, RT60 {t.rt60[0]:g}-{t.rt60[1]:g} s)'
                        for t in ROOM_TYPES.values())}"""


def main(argv: list[str] | None = None) -> int:
    p = KaldiOptionParser("simulate_rirs.py", USAGE)
    p.add_argument("--room-types", default="smallroom,mediumroom", help="Comma-separated room types")
    p.add_argument("--num-rooms", type=int, default=5, help="Rooms per type (default: 5)")
    p.add_argument("--rirs-per-room", type=int, default=4, help="Source positions (RIRs) per room (default: 4)")
    p.add_argument("--sample-rate", type=int, default=16000, help="Sampling rate of the RIRs (default: 16000)")
    p.add_argument("--seed", type=int, default=1, help="Random seed (default: 1)")
    p.add_argument("--max-order", type=int, default=100, help="Cap on the image-source order (default: 100)")
    p.add_argument("--tolerance", type=float, default=0.05,
                   help="Relative RT60 error at which calibration stops (default: 0.05)")
    p.add_argument("out_dir", metavar="<out-dir>")
    args = p.parse_args(argv)
    log = get_logger("simulate_rirs.py")
    if args.num_rooms < 1 or args.rirs_per_room < 1:
        log.error("--num-rooms and --rirs-per-room must be positive")
        return 1
    start = time.time()
    try:
        records = simulate_rirs(args.out_dir, [t for t in args.room_types.split(",") if t], args.num_rooms,
                                args.rirs_per_room, args.sample_rate, args.seed, args.max_order, args.tolerance,
                                log=log)
    except (SimulationError, OSError) as e:
        log.error(str(e))
        return 1
    n = sum(len(r) for r in records.values())
    log.info(f"simulated {n} RIRs in {time.time() - start:.1f} s into {args.out_dir}/simulated_rirs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
