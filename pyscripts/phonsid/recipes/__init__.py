"""phonsid.recipes"""
