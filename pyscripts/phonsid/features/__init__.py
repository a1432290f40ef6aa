"""phonsid.features"""
