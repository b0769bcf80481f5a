//! Writing a network back to pandapower CSV element tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::network::{Network, SwitchKind, Tap, TapChanger};

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn tap_cells(t: Option<&Tap>) -> String {
    match t {
        None => ",,,,,,".to_string(),
        Some(t) => {
            format!(
                "{},{},{},{},{},{}",
                if t.hv_side { "hv" } else { "lv" },
                t.neutral,
                t.pos,
                opt(t.step_percent),
                opt(t.step_degree),
                match t.changer {
                    TapChanger::Ratio => "Ratio",
                    TapChanger::Symmetrical => "Symmetrical",
                    TapChanger::Ideal => "Ideal",
                }
            ) + ","
        }
    }
}

impl Network {
    /// The element tables as CSV text keyed by table name, in the layout
    /// [`Network::from_csv_tables`] reads (pandapower column names).
    pub fn to_csv_tables(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut t = String::from("index,name,vn_kv,in_service,min_vm_pu,max_vm_pu\n");
        for b in &self.bus {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{}",
                b.index,
                quote(&b.name),
                b.vn_kv,
                py_bool(b.in_service),
                opt(b.min_vm_pu),
                opt(b.max_vm_pu)
            );
        }
        out.insert("bus".into(), t);
        let mut t = String::from(
            "index,name,from_bus,to_bus,length_km,r_ohm_per_km,x_ohm_per_km,c_nf_per_km,g_us_per_km,max_i_ka,df,parallel,in_service\n",
        );
        for l in &self.line {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                l.index,
                quote(&l.name),
                l.from_bus,
                l.to_bus,
                l.length_km,
                l.r_ohm_per_km,
                l.x_ohm_per_km,
                l.c_nf_per_km,
                l.g_us_per_km,
                l.max_i_ka,
                l.df,
                l.parallel,
                py_bool(l.in_service)
            );
        }
        out.insert("line".into(), t);
        let mut t = String::from(
            "index,name,hv_bus,lv_bus,sn_mva,vn_hv_kv,vn_lv_kv,vk_percent,vkr_percent,pfe_kw,i0_percent,shift_degree,\
             tap_side,tap_neutral,tap_pos,tap_step_percent,tap_step_degree,tap_changer_type,parallel,df,in_service\n",
        );
        for x in &self.trafo {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}{},{},{}",
                x.index,
                quote(&x.name),
                x.hv_bus,
                x.lv_bus,
                x.sn_mva,
                x.vn_hv_kv,
                x.vn_lv_kv,
                x.vk_percent,
                x.vkr_percent,
                x.pfe_kw,
                x.i0_percent,
                x.shift_degree,
                tap_cells(x.tap.as_ref()),
                x.parallel,
                x.df,
                py_bool(x.in_service)
            );
        }
        out.insert("trafo".into(), t);
        let mut t = String::from("index,bus,element,et,closed,z_ohm\n");
        for s in &self.switch {
            let et = match s.et {
                SwitchKind::Bus => "b",
                SwitchKind::Line => "l",
                SwitchKind::Trafo => "t",
            };
            let _ = writeln!(
                t,
                "{},{},{},{},{},{}",
                s.index,
                s.bus,
                s.element,
                et,
                py_bool(s.closed),
                s.z_ohm
            );
        }
        out.insert("switch".into(), t);
        let mut t = String::from(
            "index,name,bus,p_mw,q_mvar,const_z_p_percent,const_i_p_percent,const_z_q_percent,const_i_q_percent,scaling,in_service,profile\n",
        );
        for l in &self.load {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                l.index,
                quote(&l.name),
                l.bus,
                l.p_mw,
                l.q_mvar,
                l.const_z_p_percent,
                l.const_i_p_percent,
                l.const_z_q_percent,
                l.const_i_q_percent,
                l.scaling,
                py_bool(l.in_service),
                quote(&l.profile)
            );
        }
        out.insert("load".into(), t);
        let mut t =
            String::from("index,name,bus,p_mw,q_mvar,sn_mva,scaling,in_service,type,profile\n");
        for g in &self.sgen {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{},{},{},{}",
                g.index,
                quote(&g.name),
                g.bus,
                g.p_mw,
                g.q_mvar,
                opt(g.sn_mva),
                g.scaling,
                py_bool(g.in_service),
                quote(&g.kind),
                quote(&g.profile)
            );
        }
        out.insert("sgen".into(), t);
        let mut t = String::from(
            "index,name,bus,p_mw,q_mvar,sn_mva,max_e_mwh,min_e_mwh,scaling,in_service\n",
        );
        for s in &self.storage {
            let _ = writeln!(
                t,
                "{},{},{},{},{},{},{},{},{},{}",
                s.index,
                quote(&s.name),
                s.bus,
                s.p_mw,
                s.q_mvar,
                opt(s.sn_mva),
                s.max_e_mwh,
                s.min_e_mwh,
                s.scaling,
                py_bool(s.in_service)
            );
        }
        out.insert("storage".into(), t);
        let mut t = String::from("index,bus,vm_pu,va_degree,in_service\n");
        for e in &self.ext_grid {
            let _ = writeln!(
                t,
                "{},{},{},{},{}",
                e.index,
                e.bus,
                e.vm_pu,
                e.va_degree,
                py_bool(e.in_service)
            );
        }
        out.insert("ext_grid".into(), t);
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::network::Network;
    use crate::synthetic::{SyntheticSpec, synthetic_feeder};

    #[test]
    fn tables_round_trip() {
        let net = synthetic_feeder(&SyntheticSpec {
            substations: 2,
            lv_buses: 5,
            seed: 1,
        });
        let back = Network::from_csv_tables(&net.to_csv_tables()).unwrap();
        assert_eq!(back, net);
    }
}
