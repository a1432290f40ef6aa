"""phonsid.backend"""
