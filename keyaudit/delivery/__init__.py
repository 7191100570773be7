"""keyaudit/delivery"""
