"""phonsid.metrics"""
