"""keyaudit/warehouse"""
