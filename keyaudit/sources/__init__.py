"""keyaudit/sources"""
