"""phonsid.gmm"""
