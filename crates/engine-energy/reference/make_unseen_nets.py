"""Networks the engine is not tuned on, with pandapower's power-flow results.

Writes crates/engine-energy/reference/nets/<name>/ with the element tables
(pandapower column names, index in column `index`) and res_bus/res_line/
res_trafo/res_ext_grid.csv from
pp.runpp(algorithm="nr", calculate_voltage_angles=True, init="flat",
         tolerance_mva=1e-10, max_iteration=30, trafo_model="t").

Run (see README.md):  python make_unseen_nets.py
"""
import json
import pathlib

import pandapower as pp
import pandapower.networks as pn

OUT = pathlib.Path(__file__).parent / "nets"
TABLES = ["bus", "line", "trafo", "switch", "load", "sgen", "storage", "ext_grid"]
RESULTS = ["res_bus", "res_line", "res_trafo", "res_ext_grid"]


def feature_net():
    """A small network that exercises every modelling feature at once."""
    net = pp.create_empty_network(sn_mva=1.0)
    hv = pp.create_bus(net, 110.0, name="HV")
    mv = [pp.create_bus(net, 20.0, name=f"MV{i}") for i in range(6)]
    lv = [pp.create_bus(net, 0.4, name=f"LV{i}") for i in range(8)]
    island = [pp.create_bus(net, 0.4, name=f"island{i}") for i in range(2)]
    oos = pp.create_bus(net, 0.4, name="out of service", in_service=False)
    pp.create_ext_grid(net, hv, vm_pu=1.02, va_degree=5.0)
    pp.create_ext_grid(net, mv[5], vm_pu=1.0, va_degree=-145.5)  # second slack, meshed (after the 150° HV/MV group)
    # HV/MV with a ratio tap on the high side
    t0 = pp.create_transformer(net, hv, mv[0], "25 MVA 110/20 kV")
    net.trafo.loc[t0, ["tap_pos", "tap_changer_type"]] = [3, "Ratio"]
    # MV/LV Dyn5 with a tap on the low side that also turns the angle
    t1 = pp.create_transformer_from_parameters(
        net, mv[2], lv[0], sn_mva=0.63, vn_hv_kv=20, vn_lv_kv=0.4, vk_percent=6,
        vkr_percent=1.2, pfe_kw=1.4, i0_percent=0.3, shift_degree=150,
        tap_side="lv", tap_neutral=0, tap_min=-5, tap_max=5, tap_pos=-2,
        tap_step_percent=2.5, tap_step_degree=5.0, tap_changer_type="Ratio")
    # an ideal phase shifter, two units in parallel, derated
    pp.create_transformer_from_parameters(
        net, mv[3], lv[4], sn_mva=0.4, vn_hv_kv=20.5, vn_lv_kv=0.41, vk_percent=4,
        vkr_percent=1.0, pfe_kw=0.6, i0_percent=0.2, shift_degree=0,
        tap_side="hv", tap_neutral=0, tap_min=-3, tap_max=3, tap_pos=1,
        tap_step_degree=2.0, tap_changer_type="Ideal", parallel=2, df=0.9)
    # a transformer whose LV switch is open: energised from MV only
    t3 = pp.create_transformer(net, mv[4], lv[7], "0.25 MVA 20/0.4 kV")
    pp.create_switch(net, lv[7], t3, et="t", closed=False)
    # MV lines, one meshed, with conductance
    for a, b, km in [(0, 1, 2.0), (1, 2, 1.5), (2, 3, 1.0), (3, 4, 0.8), (1, 4, 2.5), (4, 5, 1.2)]:
        pp.create_line_from_parameters(net, mv[a], mv[b], km, r_ohm_per_km=0.16,
                                       x_ohm_per_km=0.12, c_nf_per_km=280,
                                       g_us_per_km=0.5, max_i_ka=0.36)
    # LV lines: parallel systems, derating, an open line end, an out-of-service line
    lvl = [(0, 1, 0.08, 1), (1, 2, 0.05, 2), (2, 3, 0.04, 1), (4, 5, 0.06, 1), (5, 6, 0.03, 1)]
    for a, b, km, par in lvl:
        pp.create_line_from_parameters(net, lv[a], lv[b], km, r_ohm_per_km=0.206,
                                       x_ohm_per_km=0.08, c_nf_per_km=260, max_i_ka=0.27,
                                       parallel=par, df=0.9)
    open_end = pp.create_line_from_parameters(net, lv[3], lv[6], 0.1, r_ohm_per_km=0.206,
                                              x_ohm_per_km=0.08, c_nf_per_km=260,
                                              max_i_ka=0.27)
    pp.create_switch(net, lv[6], open_end, et="l", closed=False)
    pp.create_line_from_parameters(net, lv[2], lv[5], 0.1, r_ohm_per_km=0.2,
                                   x_ohm_per_km=0.08, c_nf_per_km=0, max_i_ka=0.27,
                                   in_service=False)
    pp.create_line_from_parameters(net, lv[6], oos, 0.02, r_ohm_per_km=0.2,
                                   x_ohm_per_km=0.08, c_nf_per_km=0, max_i_ka=0.27)
    pp.create_line_from_parameters(net, island[0], island[1], 0.03, r_ohm_per_km=0.2,
                                   x_ohm_per_km=0.08, c_nf_per_km=0, max_i_ka=0.27)
    # bus-bus switches: fused, with impedance, open
    extra = pp.create_bus(net, 0.4, name="fused")
    pp.create_switch(net, lv[1], extra, et="b", closed=True)
    zb = pp.create_bus(net, 0.4, name="via impedance switch")
    pp.create_switch(net, lv[2], zb, et="b", closed=True, z_ohm=0.02)
    pp.create_switch(net, lv[3], island[0], et="b", closed=False)
    # loads (some voltage dependent), PV, storage
    for i, b in enumerate(lv[1:7] + [extra, zb]):
        pp.create_load(net, b, p_mw=0.02 + 0.005 * i, q_mvar=0.006,
                       const_z_p_percent=30 if i % 2 else 0, const_i_p_percent=20 if i % 3 == 0 else 0,
                       const_z_q_percent=10 if i % 2 else 0, const_i_q_percent=0, scaling=1.1)
    pp.create_load(net, mv[1], p_mw=1.5, q_mvar=0.4)
    pp.create_load(net, island[1], p_mw=0.01)
    pp.create_load(net, oos, p_mw=0.01)
    pp.create_sgen(net, lv[3], p_mw=0.03, q_mvar=-0.005, type="PV")
    pp.create_sgen(net, mv[4], p_mw=0.8, q_mvar=0.1, scaling=0.9)
    pp.create_storage(net, lv[5], p_mw=0.015, max_e_mwh=0.05, q_mvar=0.0)
    pp.create_storage(net, mv[3], p_mw=-0.2, max_e_mwh=1.0, q_mvar=0.02)
    return net


NETS = {
    "mv_oberrhein": pn.mv_oberrhein,
    "kerber_vorstadtnetz_kabel_1": pn.create_kerber_vorstadtnetz_kabel_1,
    "simple_mv_open_ring": pn.simple_mv_open_ring_net,
    "feature_mix": feature_net,
}


def main():
    summary = {"pandapower": pp.__version__, "nets": {}}
    for name, make in NETS.items():
        net = make()
        for t in ["gen", "shunt", "impedance", "ward", "xward", "trafo3w", "dcline", "motor"]:
            assert len(net[t]) == 0, f"{name} has {t}"
        # a flat start cannot follow a 150 degree vector group; fall back to
        # pandapower's DC initialisation (the solution is the same)
        for init in ["flat", "dc"]:
            try:
                pp.runpp(net, algorithm="nr", calculate_voltage_angles=True, init=init,
                         tolerance_mva=1e-10, max_iteration=30, trafo_model="t", numba=False)
                break
            except pp.LoadflowNotConverged:
                print(f"{name}: init={init} did not converge")
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        for t in TABLES + RESULTS:
            net[t].to_csv(d / f"{t}.csv", index_label="index", float_format="%.17g")
        summary["nets"][name] = {
            "n_bus": len(net.bus), "init": init, "iterations": int(net._ppc["iterations"]),
            "losses_mw": float(net.res_line.pl_mw.sum() + net.res_trafo.pl_mw.sum()),
        }
    (OUT / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
