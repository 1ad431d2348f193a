#!/usr/bin/env python3
"""Assemble the gas-exact wrapper that SolidMLTest etches at the SolidML addresses.

Why hand-assembled: the wrapper must consume *exactly* the precompile's price, so the gas of
every instruction it runs with metering on must be known; solc's output varies with its version
and optimizer settings, raw bytecode does not. Run it to print the two halves of the bytecode
(the route's address goes between them) and the listing; `SolidMLTest.sol` holds the output and
`stdlib-sol/test/SolidMLTest.t.sol` checks the gas to the unit.

Contract of the wrapper (frame at 0x…501D or 0x…F4, code = PREFIX ++ route address ++ SUFFIX):
1. `GAS` first: g = gas at entry − 2. A call from itself jumps to INVALID (the burner).
2. `vm.pauseGasMetering()`; from here on nothing is charged. Memory: [g + 2][calldata].
3. STATICCALL the route with that memory; it returns `status(32) ‖ charge(32) ‖ data` (status 0:
   return data, 1: revert with data, 2: halt — the price exceeds the gas at entry). A failing
   route (a test set-up error, ffi disabled…) reverts with its reason, still paused.
4. `vm.resumeGasMetering()`, then `GAS` again: gr. Spent so far = g + 2 − gr.
5. Status 2: INVALID (consumes all gas, as a precompile halt does). Otherwise burn
   X = charge − (g + 2 − gr) − TAIL by calling itself with gas X (INVALID consumes it), then
   RETURN or REVERT the data. TAIL is the metered gas of the instructions after step 4's `GAS`.
Exact as long as charge ≥ spent-so-far + TAIL and X ≤ 63/64 of the gas left (a caller that
forwards less than about price·64/63 gets a smaller burn: a forge test forwards all its gas).
"""

VM = "7109709ecfa91a80626ff3989d68f67f5b1dd12d"
PAUSE, RESUME = "d1a5b36f", "2bcd50e0"

OPS = {  # name: (byte, metered gas when memory is already expanded and accounts warm)
    "STOP": (0x00, 0), "ADD": (0x01, 3), "SUB": (0x03, 3), "GT": (0x11, 3), "EQ": (0x14, 3), "SHL": (0x1B, 3),
    "ADDRESS": (0x30, 2), "CALLER": (0x33, 2), "CALLDATASIZE": (0x36, 2), "CALLDATACOPY": (0x37, None),
    "RETURNDATASIZE": (0x3D, 2), "RETURNDATACOPY": (0x3E, None), "POP": (0x50, 2), "MLOAD": (0x51, 3),
    "MSTORE": (0x52, None), "JUMP": (0x56, 8), "JUMPI": (0x57, 10), "GAS": (0x5A, 2), "JUMPDEST": (0x5B, 1),
    "DUP1": (0x80, 3), "DUP2": (0x81, 3), "DUP3": (0x82, 3), "DUP4": (0x83, 3), "DUP7": (0x86, 3),
    "SWAP1": (0x90, 3), "SWAP2": (0x91, 3), "CALL": (0xF1, 100), "RETURN": (0xF3, 0), "STATICCALL": (0xFA, None),
    "REVERT": (0xFD, 0), "INVALID": (0xFE, None),
}


def assemble(program):
    """Two passes: label offsets, then bytes. Items: 'OP', ('PUSH', hex or label), ('LABEL', name), ('IMPL',)."""
    labels, pc = {}, 0
    for it in program:
        if isinstance(it, tuple) and it[0] == "LABEL":
            labels[it[1]] = pc
            pc += 1
        elif isinstance(it, tuple) and it[0] == "PUSH":
            v = it[1]
            pc += 1 + (1 if v.startswith("@") else len(v) // 2)
        elif isinstance(it, tuple) and it[0] == "IMPL":
            pc += 21
        else:
            pc += 1
    out, listing, pc = [], [], 0
    for it in program:
        if isinstance(it, tuple) and it[0] == "LABEL":
            out.append("5b"); listing.append(f"{pc:04x} JUMPDEST ({it[1]})"); pc += 1
        elif isinstance(it, tuple) and it[0] == "PUSH":
            v = it[1]
            if v.startswith("@"):
                v = f"{labels[v[1:]]:02x}"
            n = len(v) // 2
            out.append(f"{0x5F + n:02x}{v}"); listing.append(f"{pc:04x} PUSH{n} 0x{v}"); pc += 1 + n
        elif isinstance(it, tuple) and it[0] == "IMPL":
            out.append("|"); listing.append(f"{pc:04x} PUSH20 <route>"); pc += 21
        else:
            out.append(f"{OPS[it][0]:02x}"); listing.append(f"{pc:04x} {it}"); pc += 1
    return "".join(out), listing


def call_cheat(selector, mem_at):
    """call(gas, VM, 0, mem_at, 4, 0, 0) with the selector stored at mem_at (an item list)."""
    return [("PUSH", selector), ("PUSH", "e0"), "SHL", *mem_at, "MSTORE",
            ("PUSH", "00"), ("PUSH", "00"), ("PUSH", "04"), *mem_at, ("PUSH", "00"), ("PUSH", VM), "GAS", "CALL", "POP"]


# The metered tail: every instruction after the second GAS. Stack on entry: [gr rds g].
# S = g + 2 + T − gr + status is what the frame spends besides the burn (status: the REVERT
# path runs one JUMPDEST more than the RETURN path); X = charge − S, or 0 when the charge is
# below S (then the call costs S, the one inexact case: see the module doc).
TAIL = [
    ("PUSH", "00"), "MLOAD", ("PUSH", "02"), "EQ", ("PUSH", "@halt"), "JUMPI",
    "DUP3", ("PUSH", "TT"), "ADD", "SUB",                      # [S0 rds g], S0 = g+2+T − gr
    ("PUSH", "00"), "MLOAD", "ADD",                            # [S rds g]
    ("PUSH", "20"), "MLOAD",                                   # [charge S rds g]
    "DUP2", "DUP2", "GT", ("PUSH", "@pos"), "JUMPI",
    "POP", "POP", ("PUSH", "00"), ("PUSH", "@spend"), "JUMP",   # clamped: X = 0
    ("LABEL", "pos"), "SUB",                                   # [X rds g]
    ("LABEL", "spend"),
    ("PUSH", "00"), "DUP1", "DUP1", "DUP1", "DUP1", "ADDRESS", "DUP7", "CALL", "POP", "POP",  # [rds g]
    ("PUSH", "40"), "SWAP1", "SUB",                            # [rds−64 g]
    ("PUSH", "40"),                                            # [64 rds−64 g]
    ("PUSH", "00"), "MLOAD", ("PUSH", "@revert"), "JUMPI",
    "RETURN",
    ("LABEL", "revert"), "REVERT",
]
# The instructions the RETURN path runs when X > 0 (the clamped ones are left out).
CLAMPED = set(range(20, 25))


def tail_gas():
    """Metered gas of TAIL on the RETURN path with X > 0 (the burn's X itself excluded)."""
    g = 0
    for i, it in enumerate(TAIL):
        if i in CLAMPED:
            continue
        if isinstance(it, tuple) and it[0] == "LABEL":
            if it[1] == "revert":
                break
            g += 1
        else:
            g += 3 if isinstance(it, tuple) else OPS[it][1]
    return g


def program(tail_const):
    tail = [("PUSH", f"{tail_const:02x}") if it == ("PUSH", "TT") else it for it in TAIL]
    return [
        "GAS",                                              # [g]
        "ADDRESS", "CALLER", "EQ", ("PUSH", "@burn"), "JUMPI",
        *call_cheat(PAUSE, [("PUSH", "00")]),               # metering paused from here
        ("PUSH", "02"), "DUP2", "ADD", ("PUSH", "00"), "MSTORE",          # mem[0] = gas at entry
        "CALLDATASIZE", ("PUSH", "00"), ("PUSH", "20"), "CALLDATACOPY",    # mem[32..] = calldata
        ("PUSH", "00"), ("PUSH", "00"), "CALLDATASIZE", ("PUSH", "20"), "ADD", ("PUSH", "00"),
        ("IMPL",), "GAS", "STATICCALL",                     # [ok g]
        "RETURNDATASIZE", ("PUSH", "00"), ("PUSH", "00"), "RETURNDATACOPY",
        ("PUSH", "@ok"), "JUMPI",
        "RETURNDATASIZE", ("PUSH", "00"), "REVERT",         # the route failed: its reason
        ("LABEL", "ok"),
        "RETURNDATASIZE",                                   # [rds g]
        *call_cheat(RESUME, ["RETURNDATASIZE"]),            # selector after the data; metering on
        "GAS",                                              # [gr rds g]
        *tail,
        ("LABEL", "halt"), "INVALID",
        ("LABEL", "burn"), "INVALID",
    ]


if __name__ == "__main__":
    assert [TAIL[i] for i in sorted(CLAMPED)] == ["POP", "POP", ("PUSH", "00"), ("PUSH", "@spend"), "JUMP"]
    t = tail_gas()
    code, listing = assemble(program(t + 2))  # the constant is 2 + T: g was read after the entry GAS
    prefix, suffix = code.split("|")
    print("TAIL", t)
    print("PREFIX", prefix + "73")  # PUSH20 before the route's address
    print("SUFFIX", suffix)
    print("\n".join(listing))
