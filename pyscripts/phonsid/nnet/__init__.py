"""phonsid.nnet"""
