"""SSR → SMR transition: authorisations mapped to mentions (``correspondence``), gaps with
the ROR (``gaps``), what-if scenarios (``scenarios``) and their comparison with the current
offer (``comparison``). Rules in detail at the top of each module.
"""
