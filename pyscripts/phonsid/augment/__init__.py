"""phonsid.augment"""
